#!/bin/sh
# bench/tts/compare.sh — the figures of docs/decisions/tts.md: speed and
# intelligibility on telephony audio of espeak-ng and flite voices.
#   speed: CPU seconds of synthesis per second of speech (tts_compare.c)
#   intelligibility: the audio a caller hears (8 kHz, G.711 mu-law) given to
#     a speech recogniser (pocketsphinx, en-us model; upsampled to its 16 kHz):
#     digit strings with a digits-only grammar (digit error rate), prompts
#     with the full language model (word error rate). A recogniser trained on
#     human speech is a harsh listener: the figures rank the voices, they do
#     not say what a person understands.
# Needs: libespeak-ng-dev flite1-dev libsamplerate0-dev pocketsphinx
# pocketsphinx-en-us sox (not build dependencies of callroute).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=${W:-$(mktemp -d /tmp/tts-compare.XXXXXX)}
cc -O2 -o "$W/tts_compare" "$ROOT/bench/tts/tts_compare.c" \
    $(pkg-config --cflags --libs espeak-ng samplerate sndfile spandsp) \
    -lflite_cmu_us_kal -lflite_cmu_us_slt -lflite_cmu_us_rms -lflite_cmu_us_awb \
    -lflite_usenglish -lflite_cmulex -lflite -lm
"$W/tts_compare" "$W" 5 >"$W/speed.jsonl"
cat "$W/speed.jsonl"
cat >"$W/digits.gram" <<'G'
#JSGF V1.0;
grammar digits;
public <digits> = ( zero | oh | one | two | three | four | five | six | seven | eight | nine )+ ;
G
for f in "$W"/*-*-*.wav; do
    sox "$f" -r 16000 "${f%.wav}.16k.wav"
done
/usr/bin/python3 - "$W" <<'PY'
import glob, os, re, subprocess, sys
w = sys.argv[1]
texts = {}
for line in open(os.path.join(w, "texts.txt")):
    i, t = line.rstrip("\n").split("\t", 1)
    texts[int(i)] = t
def words(t):
    return re.sub(r"[^a-z' ]", " ", t.lower()).split()
def wer(ref, hyp):
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[len(hyp)], len(ref)
voices = sorted({os.path.basename(f).rsplit("-", 1)[0] for f in glob.glob(os.path.join(w, "*-*-*.16k.wav"))})
for v in voices:
    res = {"digits": [0, 0], "prompts": [0, 0]}
    for i, t in texts.items():
        f = os.path.join(w, "%s-%d.16k.wav" % (v, i))
        digits = "," in t and all(x in ("zero one two three four five six seven eight nine".split()) for x in words(t))
        args = ["pocketsphinx_continuous", "-infile", f, "-logfn", "/dev/null"]
        if digits:
            args += ["-jsgf", os.path.join(w, "digits.gram")]
        hyp = subprocess.run(args, capture_output=True, text=True).stdout.strip()
        hyp = ["zero" if x == "oh" else x for x in words(hyp)]
        e, n = wer(words(t), hyp)
        k = "digits" if digits else "prompts"
        res[k][0] += e
        res[k][1] += n
    print('{"voice":"%s","digit_error_rate":%.3f,"prompt_word_error_rate":%.3f}' % (
        v, res["digits"][0] / res["digits"][1], res["prompts"][0] / res["prompts"][1]))
PY
