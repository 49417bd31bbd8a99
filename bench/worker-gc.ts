// V8 flags for bench worker processes that host hundreds of instances in one heap (bench/membership).
// With V8's defaults a membership worker of 250 instances (~190 MB live at 1,000) averaged 18.8 ms
// per scavenge (2,015 of 4,792 over 20 ms, up to 96 ms) and paused up to 155 ms in full collections,
// each pause making its 250 members miss acks at once, while four workers' parallel GC helper threads
// fought them and nats-server for the 2 cores. With GC on the main thread only: scavenges 9.1 ms on
// average (191 of 1,969 over 20 ms), and 1,000 converged in 58–73 s instead of 133–184 s, with no
// false death (bench/README.md, "The workers' GC"). A node runs one instance in its own process with
// a ~30 MB heap: these pauses belong to the many-in-one-process harness, not to a node.
// BENCH_DEFAULT_GC=1 gives the workers V8's defaults, to compare.
export function manyInstanceGcFlags(): string[] {
  return process.env.BENCH_DEFAULT_GC === "1" ? [] : ["--single-threaded-gc"];
}
