using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// <c>-- --interleaved [rounds]</c> and <c>-- --interleaved-full-store [rounds]</c>: the processing benchmark's floor and
/// its no-op-handler case, measured in turn within each round of one process, so that both see nearly the same
/// neighbours; the ratio is taken per round and the median reported.
/// </summary>
/// <remarks>
/// BenchmarkDotNet runs a case and its baseline in separate processes a minute apart and collects all garbage before
/// every iteration: on a shared machine the first lets neighbours that come or go between the two move the ratio, and
/// the second hides what a delivery leaves for later collections. Here nothing is collected on purpose, so each round's
/// deliveries pay for the collections they cause, including those of earlier rounds. A round is 32,768 deliveries of
/// distinct events and the floors, the two in alternating order from round to round; the first two rounds warm up and
/// are not reported. The deliveries go into a fresh provider per round (a fresh store, which grows from empty to 65,536
/// ids), as in <see cref="WebhookProcessingBenchmarks"/>, or, with <c>--interleaved-full-store</c>, into one store kept
/// for the whole run and filled to its capacity before the first (<see cref="FullStore"/>), each round's events a new
/// batch. There are two floors of 32,768 HMACs each: over one buffer, which stays in the cache (the BenchmarkDotNet
/// baseline), and over each delivery's own bytes in the deliveries' order, 110 MB that come from memory as the
/// deliveries' bodies do. Besides wall time, each block's process CPU time is read, so that work other threads do for
/// the deliveries (a full store's pruner, the runtime's) is counted too. The pauses are those the measuring thread
/// waited for (<see cref="GC.GetTotalPauseDuration"/>): background collections' own CPU is not in them.
/// </remarks>
internal static class InterleavedProcessingRun
{
    private const int WarmUpRounds = 2;

    public static void Run(int rounds, bool fullStore)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var operations = WebhookProcessingBenchmarks.Operations;
        var now = DateTimeOffset.UtcNow;
        var bodies = new byte[operations][];
        for (var i = 0; i < operations; i++)
        {
            bodies[i] = Payloads.CheckoutCompleted(i);
        }

        // A fresh store takes the same events every round. A full store needs each round's to be new: the bodies become
        // each round's batch in place, and the headers are all made now, so that no round leaves them as garbage for
        // the next rounds' deliveries to collect.
        var headers = new string[fullStore ? WarmUpRounds + rounds : 1][];
        for (var batch = 0; batch < headers.Length; batch++)
        {
            if (fullStore)
            {
                FullStore.Stamp(bodies, batch);
            }

            headers[batch] = new string[operations];
            Payloads.Sign(bodies, headers[batch], now);
        }

        using var full = fullStore ? new FullStore() : null;
        var key = Encoding.UTF8.GetBytes(Payloads.Secret);
        var signedBodies = bodies.Select(body => Payloads.Signed(body, now)).ToArray();
        var signed = signedBodies[0];
        var hash = new byte[32];
        var floors = new List<double>();
        var eachFloors = new List<double>();
        var libraries = new List<double>();
        var ratios = new List<double>();
        var eachRatios = new List<double>();
        var cpus = new List<double>();
        var cpuRatios = new List<double>();
        var pause = TimeSpan.Zero;
        var collections = new int[3];

        for (var round = 0; round < WarmUpRounds + rounds; round++)
        {
            if (DateTimeOffset.UtcNow - now > TimeSpan.FromMinutes(4))
            {
                throw new InvalidOperationException("The run neared the signatures' 5-minute tolerance: ask for fewer rounds.");
            }

            var floor = new Stopwatch();
            var eachFloor = new Stopwatch();
            var floorCpu = TimeSpan.Zero;
            void MeasureFloor()
            {
                var cpu = ProcessCpu();
                floor.Start();
                for (var i = 0; i < operations; i++)
                {
                    HMACSHA256.HashData(key, signed, hash);
                }

                floor.Stop();
                floorCpu = ProcessCpu() - cpu;

                // The same floor over each delivery's own bytes, which come from memory as the deliveries' do.
                eachFloor.Start();
                for (var i = 0; i < operations; i++)
                {
                    HMACSHA256.HashData(key, signedBodies[i], hash);
                }

                eachFloor.Stop();
            }

            if (round % 2 == 0)
            {
                MeasureFloor();
            }

            using var fresh = fullStore ? null : WebhookProcessingBenchmarks.Build<NoOpFulfillmentHandler>();
            var processor = full?.Processor ?? fresh!.GetRequiredService<IWebhookProcessor>();
            var batchHeaders = headers[fullStore ? round : 0];
            if (fullStore)
            {
                FullStore.Stamp(bodies, round);
            }

            var fulfilledBefore = NoOpFulfillmentHandler.Fulfilled;
            var pauseBefore = GC.GetTotalPauseDuration();
            int[] collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
            var libraryCpuBefore = ProcessCpu();
            var library = Stopwatch.StartNew();
            for (var i = 0; i < operations; i++)
            {
                var delivery = processor.ProcessAsync(bodies[i], batchHeaders[i]);
                if (!delivery.IsCompletedSuccessfully || delivery.Result.Outcome != WebhookOutcome.Processed)
                {
                    throw new InvalidOperationException($"Delivery {i} did not complete as processed at once.");
                }
            }

            library.Stop();
            var libraryCpu = ProcessCpu() - libraryCpuBefore;
            var pauseDuring = GC.GetTotalPauseDuration() - pauseBefore;
            int[] collectionsDuring = [GC.CollectionCount(0) - collectionsBefore[0], GC.CollectionCount(1) - collectionsBefore[1], GC.CollectionCount(2) - collectionsBefore[2]];
            if (round % 2 == 1)
            {
                MeasureFloor();
            }

            if (NoOpFulfillmentHandler.Fulfilled - fulfilledBefore != operations)
            {
                throw new InvalidOperationException("A delivery did not reach the handler exactly once.");
            }

            if (round < WarmUpRounds)
            {
                continue;
            }

            pause += pauseDuring;
            for (var generation = 0; generation < 3; generation++)
            {
                collections[generation] += collectionsDuring[generation];
            }

            floors.Add(floor.Elapsed.TotalMicroseconds / operations);
            eachFloors.Add(eachFloor.Elapsed.TotalMicroseconds / operations);
            libraries.Add(library.Elapsed.TotalMicroseconds / operations);
            ratios.Add(libraries[^1] / floors[^1]);
            eachRatios.Add(libraries[^1] / eachFloors[^1]);
            cpus.Add(libraryCpu.TotalMicroseconds / operations);
            cpuRatios.Add(libraryCpu / floorCpu);
        }

        var deliveries = (double)rounds * operations;
        var store = fullStore ? "one store at its capacity for the run" : "a fresh store per round";
        Console.WriteLine(FormattableString.Invariant($"interleaved: {rounds} rounds of {operations} deliveries of new events into {store}, and {operations} of each floor HMAC; no forced collections"));
        Console.WriteLine(FormattableString.Invariant($"floor   HMACSHA256.HashData: median {Statistics.Median(floors):0.000} us  (min {floors.Min():0.000}, max {floors.Max():0.000})"));
        Console.WriteLine(FormattableString.Invariant($"floor over each delivery:    median {Statistics.Median(eachFloors):0.000} us  (min {eachFloors.Min():0.000}, max {eachFloors.Max():0.000})"));
        Console.WriteLine(FormattableString.Invariant($"library ProcessAsync:        median {Statistics.Median(libraries):0.000} us  (min {libraries.Min():0.000}, max {libraries.Max():0.000})"));
        Console.WriteLine(FormattableString.Invariant($"ratio per round:             median {Statistics.Median(ratios):0.00}x  (min {ratios.Min():0.00}, max {ratios.Max():0.00})"));
        Console.WriteLine(FormattableString.Invariant($"ratio to each delivery's:    median {Statistics.Median(eachRatios):0.00}x  (min {eachRatios.Min():0.00}, max {eachRatios.Max():0.00})"));
        Console.WriteLine(FormattableString.Invariant($"process CPU per delivery:    median {Statistics.Median(cpus):0.000} us  (min {cpus.Min():0.000}, max {cpus.Max():0.000}); every thread's, the pruner's and the runtime's included"));
        Console.WriteLine(FormattableString.Invariant($"ratio of process CPU times:  median {Statistics.Median(cpuRatios):0.00}x  (min {cpuRatios.Min():0.00}, max {cpuRatios.Max():0.00}) to the floor's, counted the same way"));
        Console.WriteLine(FormattableString.Invariant($"collections during the deliveries: gen0 {collections[0] / deliveries * 1000:0.00}, gen1 {collections[1] / deliveries * 1000:0.00}, gen2 {collections[2] / deliveries * 1000:0.000} per 1000; pauses {pause.TotalMicroseconds / deliveries:0.000} us per delivery"));
    }

    /// <summary>The CPU time of every thread of the process so far (the kernel counts it in 10 ms ticks).</summary>
    private static TimeSpan ProcessCpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }
}
