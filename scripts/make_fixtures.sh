#!/usr/bin/env bash
# Make the committed audio fixtures once: tests/fixtures/{speech,bad} and the bundled sample
# meeting resources/samples/team-sync.opus. Tests never run this; they use the files it wrote.
#
# Needs: espeak-ng and sox (apt-get install -y espeak-ng sox) and the project venv (PyAV does
# the mp3/opus/aac/video encoding, see scripts/encode_audio.py).
#   scripts/make_fixtures.sh            # from the repository root
# espeak-ng's output is deterministic, so re-running gives the same speech (encoders may differ
# by a few bytes between library versions).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
ENC="$PY $ROOT/scripts/encode_audio.py"
SPEECH="$ROOT/tests/fixtures/speech"
BAD="$ROOT/tests/fixtures/bad"
SAMPLES="$ROOT/resources/samples"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$SPEECH" "$BAD" "$SAMPLES"
: > "$SPEECH/durations.tsv"

# say VOICE OUT.wav TEXT: speak at 165 words/min, 16-bit mono at espeak's 22.05 kHz.
say() { espeak-ng -v "$1" -s 165 -w "$2" "$3"; }

# clip NAME VOICE TEXT: speech plus 0.3 s of silence each side, and its exact text beside it.
clip() {
  say "$2" "$WORK/raw.wav" "$3"
  sox "$WORK/raw.wav" "$WORK/$1.wav" pad 0.3 0.3
  printf '%s\n' "$3" > "$SPEECH/$1.txt"
  # The true length, before any encoder padding: decode tests compare against it.
  printf '%s\t%s\n' "$1" "$(soxi -D "$WORK/$1.wav")" >> "$SPEECH/durations.tsv"
}

# --- speech clips: one per container/codec, varied rates and channel counts -------------
clip project-update en-us "Good morning everyone. The project is on track and the new design \
was approved by the client last week. We still need to finish the testing before the release, \
so please keep your calendars open."
sox "$WORK/project-update.wav" -r 16000 "$SPEECH/project-update.flac"

clip groceries en-gb "Please remember to buy fresh bread, a dozen eggs, and some green apples \
on your way home from work. The shop on the corner closes early tonight."
$ENC "$WORK/groceries.wav" "$SPEECH/groceries.ogg" --codec libopus --rate 48000 --bitrate 24k

clip library en-us+m3 "The library will close early on Thursday because of the holiday. \
Books can be returned at the front desk until noon, and the reading room opens again on Monday."
# Stereo mp3 at 44.1 kHz: exercises down-mixing and resampling.
$ENC "$WORK/library.wav" "$SPEECH/library.mp3" --codec libmp3lame --rate 44100 \
  --layout stereo --bitrate 48k

clip garden en-gb-x-rp+f2 "She planted tomatoes and sunflowers in the garden behind the house, \
and the neighbours came over on the weekend to help with the watering."
$ENC "$WORK/garden.wav" "$SPEECH/garden.m4a" --codec aac --rate 22050 --bitrate 32k

clip hello en-us+f3 "Hello and welcome to the meeting."
sox "$WORK/hello.wav" -r 8000 -b 16 "$SPEECH/hello.wav"   # tiny: 8 kHz PCM

clip export-notes en-us "This video shows how to export the meeting notes as a text file \
and send them to the whole team."
$ENC "$WORK/export-notes.wav" "$SPEECH/export-notes.mp4" --codec aac --rate 44100 \
  --bitrate 32k --video h264

clip screen-share en-gb "When you share your screen, the other people in the call can see \
your slides and your notes."
$ENC "$WORK/screen-share.wav" "$SPEECH/screen-share.mkv" --codec libopus --rate 48000 \
  --bitrate 24k --video libvpx

# --- bad inputs -----------------------------------------------------------------------------
: > "$BAD/empty.wav"
printf 'These are my meeting notes, not audio.\nAction: call Bob.\n' > "$BAD/not-audio.mp3"
# The first 40% of a FLAC file: the header still promises the full length.
size=$(stat -c %s "$SPEECH/project-update.flac")
head -c $((size * 2 / 5)) "$SPEECH/project-update.flac" > "$BAD/truncated.flac"
$ENC --video-only "$BAD/no-audio.mp4" --seconds 3
# Six seconds of room tone far below speech level (about -66 dBFS RMS): "silence only".
sox -n -r 16000 -b 16 -c 1 "$BAD/silence.flac" synth 6 pinknoise vol 0.001

# --- the bundled sample meeting ---------------------------------------------------------------
# Three voices: Priya (US, female), Marcus (British, male), Dana (British RP, female).
declare -A VOICE=([Priya]=en-us+f3 [Marcus]=en-gb [Dana]=en-gb-x-rp+f2)
TURNS="$WORK/turns.txt"
cat > "$TURNS" <<'EOF'
Priya|Good morning Marcus, good morning Dana. How was the weekend?
Marcus|Pretty good, thanks. I finally went hiking up at the lake, and the weather was perfect.
Dana|Mine was quiet. I mostly read and cooked. Shall we get started?
Priya|Yes. First topic is the website launch. Last week we aimed for the fifteenth of March. Is that still realistic?
Marcus|I think so, if the payment page is finished in time.
Dana|It will be. I will finish the payment page by next Wednesday.
Priya|Great. Then it is decided: the launch stays on the fifteenth of March.
Priya|Second topic, the budget. Marcus, can you send the revised budget to the finance team by Friday?
Marcus|Yes, I will send it by Friday afternoon.
Dana|We also need a new hosting provider. The current one is too expensive.
Priya|Agreed. We will go with the cheaper plan from Northwind Hosting. That is our decision.
Priya|Dana, could you book a call with Northwind on Tuesday to discuss the contract?
Dana|Sure, I will book it for Tuesday morning.
Marcus|One more thing. The customer survey results came in yesterday.
Priya|Good. I will write a short summary of the survey and share it with everyone by the end of the month.
Marcus|And I will update the onboarding guide before the next sprint starts.
Priya|Perfect. Thanks everyone, see you on Thursday.
EOF
parts=()
n=0
: > "$SAMPLES/team-sync.txt"
while IFS='|' read -r who text; do
  n=$((n + 1))
  say "${VOICE[$who]}" "$WORK/turn$n.raw.wav" "$text"
  # Pauses between turns as in a real call; a longer one while someone looks something up.
  gap=0.6; [ "$n" -eq 7 ] && gap=3.0
  sox "$WORK/turn$n.raw.wav" "$WORK/turn$n.wav" pad 0 "$gap"
  parts+=("$WORK/turn$n.wav")
  printf '%s: %s\n' "$who" "$text" >> "$SAMPLES/team-sync.txt"
done < "$TURNS"
sox "${parts[@]}" "$WORK/team-sync.wav" pad 0.5 0
$ENC "$WORK/team-sync.wav" "$SAMPLES/team-sync.opus" --codec libopus --rate 48000 --bitrate 24k

du -ch "$SPEECH" "$BAD" "$SAMPLES" | tail -n 1
