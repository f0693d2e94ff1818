/**
 * Sizes and repetitions of each scenario: the full run the issue asks for, and the quick run
 * (under 3 minutes on a 2-core machine) for CI smoke use. `sN` configures scenario N. The
 * quick run proves every side still runs; with one or two repetitions its figures are not for
 * the README. PGlite's start-up (seconds per instance) is most of its time.
 */
export const OPTIONS = {
  full: {
    s1: { records: 100_000, reps: 3 },
    s2: { sizes: [100_000, 1_000_000], reps: 5 },
    s3: { profiles: 100_000, reps: 3 },
    s4: { preload: 1_000, writes: 300, reps: 3 },
    s5: { reps: 5, brotliQuality: 11 },
    s6: { events: 100_000 },
    s7: { profiles: 1_000, requests: 10_000, reps: 3, serveSeconds: 10, connections: 50 },
  },
  quick: {
    s1: { records: 1_500, reps: 1 },
    s2: { sizes: [20_000], reps: 3 },
    s3: { profiles: 2_000, reps: 1 },
    s4: { preload: 100, writes: 30, reps: 1 },
    s5: { reps: 1, brotliQuality: 9 },
    s6: { events: 10_000 },
    s7: { profiles: 200, requests: 1_000, reps: 1, serveSeconds: 2, connections: 50 },
  },
};
