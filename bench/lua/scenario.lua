-- The engine benchmark's scenario written the way a Lua programmer would:
-- one coroutine per strand (the main script, the stream, each event handler
-- run), variables in a table per call, waits as coroutine.yield(seconds) to
-- the C host's virtual clock (lua_peer.c). Keep it in step with
-- bench/engine_bench.c; the same 20 actions in the scenario language:
--
--   1  set: {greeting: "Hello {caller_number}", tier: standard}
--   2  condition: caller_number starts_with "7916"
--   3    then: set {tier: vip}
--   4  answer
--   5  event on hold:
--   6    set {held: "yes"}
--   7    log "hold {caller_number}"
--   8  event on dtmf:
--   9    set {digit: "{dtmf_digit}"}
--  10  stream ticker:
--  11    loop times 3:
--  12      wait 1
--  13      set ticks = loop_index + 1
--  14  wait 10
--  15  condition held == 'yes'
--  16    then: log "was held"
--  17  switch "{digit}"
--  18    "1": set {dept: sales}
--  19    default: set {dept: support}
--  20  hangup
--
-- Workload (per call, virtual time from its start): hold at 2 s, DTMF "1"
-- at 4 s. Steps run per call: main 13, stream 7, hold handler 2, dtmf 1 = 23.

local yield = coroutine.yield
local answer, hangup, log, spawn = answer, hangup, log, spawn

local steps = 0
function step_count() return steps end

function new_call(i)
  return {
    id = i,
    vars = { caller_number = string.format("7916%07d", i % 10000000),
             called_number = "1000", call_id = "call-" .. i },
    handlers = {},
  }
end

local function ticker(call)
  local v = call.vars
  steps = steps + 1                                           -- 11 loop
  for loop_index = 0, 2 do
    steps = steps + 1; yield(1)                               -- 12 wait
    steps = steps + 1; v.ticks = loop_index + 1               -- 13 set
  end
end

function main(call)
  local v = call.vars
  steps = steps + 1                                           -- 1 set
  v.greeting = "Hello " .. v.caller_number
  v.tier = "standard"
  steps = steps + 1                                           -- 2 condition
  if string.sub(v.caller_number, 1, 4) == "7916" then
    steps = steps + 1; v.tier = "vip"                         -- 3 set
  end
  steps = steps + 1; answer(call)                             -- 4 answer
  steps = steps + 1                                           -- 5 event hold
  call.handlers.hold = function(c)
    steps = steps + 1; v.held = "yes"                         -- 6 set
    steps = steps + 1; log(c, "hold " .. v.caller_number)     -- 7 log
  end
  steps = steps + 1                                           -- 8 event dtmf
  call.handlers.dtmf = function(c)
    steps = steps + 1; v.digit = v.dtmf_digit                 -- 9 set
  end
  steps = steps + 1; spawn(ticker, call)                      -- 10 stream
  steps = steps + 1; yield(10)                                -- 14 wait
  steps = steps + 1                                           -- 15 condition
  if v.held == "yes" then
    steps = steps + 1; log(call, "was held")                  -- 16 log
  end
  steps = steps + 1                                           -- 17 switch
  if v.digit == "1" then
    steps = steps + 1; v.dept = "sales"                       -- 18 set
  else
    steps = steps + 1; v.dept = "support"                     -- 19 set
  end
  steps = steps + 1; hangup(call)                             -- 20 hangup
end
