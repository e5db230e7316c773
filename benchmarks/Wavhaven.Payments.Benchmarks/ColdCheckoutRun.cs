using System.Diagnostics;
using System.Globalization;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// <c>-- --cold-checkout [rounds] [megabytes]</c>: the checkout's raw POST and library call without the network
/// (<see cref="InProcessCheckout"/>), alternating call by call as in <see cref="InterleavedCheckoutRun"/>, under four
/// conditions: the answer at once or after a yield, each with the caches as the previous call left them or evicted
/// before every call (by writing to every cache line of a buffer of <c>megabytes</c>, 8 by default, outside the
/// timing). Each round runs every condition in turn, so that neighbours on a shared machine fall on all four.
/// </summary>
/// <remarks>
/// BenchmarkDotNet's in-process case runs the same call back to back, so its code and data stay in the caches and every
/// <see langword="await"/> completes synchronously. On loopback neither holds: between a request and its answer the
/// kernel and the server run on the same two cores, and each <see langword="await"/> from the socket up to the caller
/// suspends and resumes. This run shows what each of the two does to what the library adds.
/// </remarks>
internal static class ColdCheckoutRun
{
    private const int WarmUpPairs = 50_000;

    private const int PairsPerRound = 500;

    public static async Task RunAsync(int rounds, int megabytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(megabytes, 1);
        var eviction = new byte[megabytes * 1024 * 1024];
        using var atOnce = new InProcessCheckout();
        using var afterYield = new InProcessCheckout(answerAsynchronously: true);

        // Twice, with a pause between, so that tiered compilation has finished before the first timed call.
        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < WarmUpPairs; i++)
            {
                await atOnce.RawPostAsync();
                await atOnce.CheckoutAsync();
                await afterYield.RawPostAsync();
                await afterYield.CheckoutAsync();
            }

            await Task.Delay(500);
        }

        var conditions = new[]
        {
            new Condition("answer at once, caches warm", atOnce, null, rounds),
            new Condition("answer at once, caches evicted", atOnce, eviction, rounds),
            new Condition("answer after a yield, caches warm", afterYield, null, rounds),
            new Condition("answer after a yield, caches evicted", afterYield, eviction, rounds),
        };
        for (var round = 0; round < rounds; round++)
        {
            foreach (var condition in conditions)
            {
                await condition.RunAsync();
            }
        }

        Console.WriteLine(FormattableString.Invariant($"cold checkout: {rounds} rounds of {PairsPerRound} pairs per condition (a raw POST and a checkout, alternating which goes first), in-process handler; eviction writes {megabytes} MB"));
        Console.WriteLine("condition                                raw POST median   library median   difference   ratio");
        foreach (var condition in conditions)
        {
            Console.WriteLine(condition);
        }
    }

    /// <summary>One of the four conditions: its pair, whether it evicts, and its calls' times in microseconds.</summary>
    private sealed class Condition(string name, InProcessCheckout pair, byte[]? eviction, int rounds)
    {
        private readonly List<double> _raw = new(rounds * PairsPerRound);
        private readonly List<double> _library = new(rounds * PairsPerRound);

        public async Task RunAsync()
        {
            for (var i = 0; i < PairsPerRound; i++)
            {
                if (i % 2 == 0)
                {
                    _raw.Add(await TimeAsync(pair.RawPostAsync));
                    _library.Add(await TimeAsync(pair.CheckoutAsync));
                }
                else
                {
                    _library.Add(await TimeAsync(pair.CheckoutAsync));
                    _raw.Add(await TimeAsync(pair.RawPostAsync));
                }
            }
        }

        public override string ToString()
        {
            var raw = Statistics.Median(_raw);
            var library = Statistics.Median(_library);
            return string.Create(CultureInfo.InvariantCulture, $"{name,-40} {raw,10:0.0} us {library,13:0.0} us {library - raw,9:0.0} us {library / raw,6:0.00}x");
        }

        /// <summary>Evicts the caches if asked (not timed), then times one call.</summary>
        private async Task<double> TimeAsync(Func<Task> call)
        {
            if (eviction is not null)
            {
                for (var i = 0; i < eviction.Length; i += 64)
                {
                    eviction[i]++;
                }
            }

            var started = Stopwatch.GetTimestamp();
            await call();
            return Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }
    }
}
