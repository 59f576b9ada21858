// The throughput run's requests and their arrival times, built as `vllm bench serve` builds them
// for its random dataset (vllm/benchmarks/datasets.py RandomDataset) and its request rate
// (vllm/benchmarks/serve.py get_request), from one seed so two runs send the same load.
//
// There is no tokenizer here, so a prompt is made of words that are one token each in the BPE
// vocabularies of the usual models (common English words after a space). vLLM's prompt i is the
// token ids (offset_i + i + k) mod vocab_size for k < input_len; ours is the same walk over the word
// list. The count the server reports (usage.prompt_tokens) is the truth, and the report keeps it.
// The random numbers come from our own seeded generator (not numpy's PCG64): the same seed gives
// the same prompts and arrivals on every run of this action, not the same as vllm bench's.

/** A deterministic generator of uniform numbers in [0, 1): sfc32, seeded through splitmix32. */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix();
    for (let i = 0; i < 12; i++) this.next();
  }

  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }

  /** An integer in [low, high), as numpy's Generator.integers(low, high). */
  integer(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low));
  }

  /** An exponential variate with mean 1/rate (numpy's gamma(shape=1, scale=1/rate)). */
  exponential(rate: number): number {
    return -Math.log(1 - this.next()) / rate;
  }
}

/** Words that are one token each (with their leading space) in GPT-2, Llama and Qwen vocabularies. */
const WORDS = (
  'the of and to in is was for on as with by at from his an were are which this be has or had not but have ' +
  'its one new first also after their who two been more other time all would there when into year some city ' +
  'three may world only over most school such then where many state part used both these later during under ' +
  'area team known people between made through life four well second called since found work being each same ' +
  'number while five before early film series around music high north south west east family long same great ' +
  'house name game main small water land play local power road line book side war party line order best city'
)
  .split(' ')
  .filter((w, i, all) => all.indexOf(w) === i);

export interface SampleRequest {
  prompt: string;
  /** The prompt's length in our word-tokens (what we asked for). */
  promptLen: number;
  /** max_tokens of the request (with ignore_eos, what the server must produce). */
  outputLen: number;
}

/**
 * `count` prompts of `inputLen` word-tokens, each to produce `outputLen` tokens: vLLM's
 * RandomDataset with range_ratio 0 and no prefix (get_sampling_params draws the offsets from the
 * seeded generator; generate_token_sequence walks the vocabulary from offset + index).
 */
export function randomRequests(count: number, inputLen: number, outputLen: number, seed: number): SampleRequest[] {
  const rng = new SeededRandom(seed);
  const offsets = Array.from({ length: count }, () => rng.integer(0, WORDS.length));
  return offsets.map((offset, index) => {
    const words = Array.from({ length: inputLen }, (_, k) => WORDS[(offset + index + k) % WORDS.length]!);
    return { prompt: words.join(' '), promptLen: inputLen, outputLen };
  });
}

/**
 * When each request is sent, in seconds from the start: all at 0 for an infinite rate; else the
 * sums of exponential gaps (a Poisson process), scaled so the last lands at count / rate, as
 * get_request does ("to close the gap for stabilizing the throughput data from different seeds").
 */
export function arrivalTimes(count: number, requestRate: number, seed: number): number[] {
  if (count === 0) return [];
  if (!Number.isFinite(requestRate)) return new Array<number>(count).fill(0);
  // A generator of its own, so the arrivals do not depend on how many prompts were drawn.
  const rng = new SeededRandom((seed ^ 0x5bd1e995) >>> 0);
  const times: number[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) times.push((at += rng.exponential(requestRate)));
  const scale = count / requestRate / times[count - 1]!;
  return times.map((t) => t * scale);
}
