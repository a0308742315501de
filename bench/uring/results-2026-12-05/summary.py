# Sums up uring_relay_bench runs: per relay and N, the median relay ns per packet of the
# steps whose load the generator offered, and each relay paired with the epoll step of the
# same round and N.  /usr/bin/python3 summary.py run*.txt
import json,sys,statistics as st
rows=[];loads=[]
for f in sys.argv[1:]:
    for l in open(f):
        if l.startswith('{'): rows.append(json.loads(l))
        elif 'load average' in l: loads.append(l.split('load average:')[1].strip())
print('load averages seen:', '; '.join(loads))
modes=['epoll','uring','uring-defer','uring-fixed']
full=lambda d: d['sent']>=0.99*d['calls']*100*d['seconds']
for n in (250,500,1000):
    for m in modes:
        v=[d['relay_ns_per_packet'] for d in rows if d['mode']==m and d['calls']==n and full(d)]
        loss=[d['loss_pct'] for d in rows if d['mode']==m and d['calls']==n and full(d)]
        sc=[d['syscalls_per_packet'] for d in rows if d['mode']==m and d['calls']==n]
        short=sum(1 for d in rows if d['mode']==m and d['calls']==n and not full(d))
        if v: print(f"{n:5} {m:12} n={len(v)} median={st.median(v):5.0f} mean={st.mean(v):5.0f} min={min(v)} max={max(v)} loss_median={st.median(loss):.3f} loss_max={max(loss):.3f} syscalls/pkt={st.median(sc):.3f} short_steps={short}")
allm={m:[d['relay_ns_per_packet'] for d in rows if d['mode']==m and full(d)] for m in modes}
for m in modes: print('all N', m, 'median', st.median(allm[m]) if allm[m] else '-', 'mean', round(st.mean(allm[m])) if allm[m] else '-')
# paired: each (round, N) group of consecutive steps with the same N holds every mode once
groups=[];cur=[]
for d in rows:
    if cur and (d['calls']!=cur[0]['calls'] or any(x['mode']==d['mode'] for x in cur)):
        groups.append(cur);cur=[]
    cur.append(d)
if cur: groups.append(cur)
rat={m:[] for m in modes}
for g in groups:
    e=[x for x in g if x['mode']=='epoll']
    if not e or not full(e[0]): continue
    for x in g:
        if full(x): rat[x['mode']].append(x['relay_ns_per_packet']/e[0]['relay_ns_per_packet'])
for m in modes[1:]:
    v=rat[m]
    if v: print(f"paired vs epoll (same round and N): {m:12} n={len(v)} median={st.median(v):.3f} mean={st.mean(v):.3f} min={min(v):.3f} max={max(v):.3f}")
