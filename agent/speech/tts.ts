/**
 * Speech behind two small interfaces, so the service never knows which engine or player it has:
 * a Tts turns text into sound, an AudioSink plays a WAV. Tests hand in fakes; production hands in
 * espeak-ng or festival (via `say`) and aplay. No adapter ever passes text through a shell.
 */

export interface SpeechResult {
  /** The WAV written, when the engine writes one (espeak-ng); festival plays directly. */
  wav?: string;
  /** Milliseconds until the sound existed (synthesis), and until playback ended. */
  synthesisMs: number;
  totalMs: number;
}

export interface Tts {
  readonly engine: string;
  /** Synthesises `text` and plays it; rejects with a BookrecError (TTS_FAILED, AUDIO_FAILED). */
  speak(text: string): Promise<SpeechResult>;
}

export interface AudioSink {
  play(wav: string): Promise<void>;
}

/** Plays nothing: a headless device that only keeps the WAV (audio.sink = none). */
export const silentSink: AudioSink = {
  play: async () => undefined,
};

/** Longest text handed to an engine; a recommendation sentence is a few hundred characters. */
export const MAX_SPEECH_CHARS = 2000;

/**
 * Text any engine may read: control characters (which could switch an engine's input mode, e.g. an
 * escape sequence) become spaces, runs of space collapse, and the length is capped.
 */
export function plainSpeech(text: string): string {
  return text
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_SPEECH_CHARS);
}
