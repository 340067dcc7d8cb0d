/** The alarm sound: a short WebAudio tone, off by default, the choice remembered in localStorage. */
const KEY = 'aquawatch.alarmSound';
let ctx: AudioContext | undefined;

export function soundEnabled(): boolean {
  try { return localStorage.getItem(KEY) === 'on'; } catch { return false; }
}

export function setSoundEnabled(on: boolean): void {
  try { localStorage.setItem(KEY, on ? 'on' : 'off'); } catch { /* not remembered */ }
  // browsers allow audio only after a user gesture: this call is one
  if (on) { ctx ??= new AudioContext(); void ctx.resume(); }
}

export function beep(priority: string): void {
  if (!soundEnabled()) return;
  ctx ??= new AudioContext();
  const freq = priority === 'critical' ? 1046 : 784;
  const pulses = priority === 'critical' ? 3 : 2;
  for (let i = 0; i < pulses; i++) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    const t0 = ctx.currentTime + i * 0.28;
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t0);
    gain.gain.exponentialRampToValueAtTime(0.3, t0 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.22);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0);
    osc.stop(t0 + 0.25);
  }
}
