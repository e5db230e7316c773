using System.Diagnostics;
using Wavhaven.Payments.Checkout;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// <c>-- --interleaved-checkout [rounds]</c>: the checkout benchmark's two cases (a raw <see cref="HttpClient"/> POST of
/// the library's body, and <see cref="ICheckoutService.CreateCheckoutAsync"/>) against the same loopback server, one
/// call of each in turn, each call timed on its own.
/// </summary>
/// <remarks>
/// On this 2-core virtual machine the client, the server and the thread pool share the cores, and a loopback round
/// trip's time depends on whether the thread it wakes was idle (waking an idle virtual CPU costs tens of microseconds):
/// from one BenchmarkDotNet iteration to the next, or from one block of calls to the next, it swings by more than the
/// overhead to be measured. Here the two cases alternate call by call (which goes first alternates too), so both see
/// the same neighbours and the same regime; the run reports the median and the mean of each case's calls and their
/// ratios, and the median of the per-round ratios of means. The first two rounds warm up and are not reported.
/// With <c>--split</c>, each call is also cut where a <see cref="WireTimer"/> sees it (see
/// <see cref="LoopbackCheckout.StartAsync"/>): before the request is handed on, on the wire (the server's answer
/// included), and after the answer is back; that pass-through handler adds a little to both cases.
/// </remarks>
internal static class InterleavedCheckoutRun
{
    private const int WarmUpRounds = 2;

    private const int PairsPerRound = 2_000;

    public static async Task RunAsync(int rounds, bool split)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        await using var pair = await LoopbackCheckout.StartAsync(split);
        var baselines = new List<double>(rounds * PairsPerRound);
        var libraries = new List<double>(rounds * PairsPerRound);
        var baselineParts = split ? new Parts(rounds * PairsPerRound) : null;
        var libraryParts = split ? new Parts(rounds * PairsPerRound) : null;
        var roundRatios = new List<double>(rounds);
        for (var round = 0; round < WarmUpRounds + rounds; round++)
        {
            long baselineTicks = 0, libraryTicks = 0;
            for (var i = 0; i < PairsPerRound; i++)
            {
                (long Started, long Ended) baseline, library;
                if (i % 2 == 0)
                {
                    baseline = await TimeAsync(pair.RawPostAsync);
                    library = await TimeAsync(pair.CheckoutAsync);
                }
                else
                {
                    library = await TimeAsync(pair.CheckoutAsync);
                    baseline = await TimeAsync(pair.RawPostAsync);
                }

                baselineTicks += baseline.Ended - baseline.Started;
                libraryTicks += library.Ended - library.Started;
                if (round >= WarmUpRounds)
                {
                    baselines.Add(Stopwatch.GetElapsedTime(baseline.Started, baseline.Ended).TotalMicroseconds);
                    libraries.Add(Stopwatch.GetElapsedTime(library.Started, library.Ended).TotalMicroseconds);
                    baselineParts?.Add(baseline.Started, pair.RawWire, baseline.Ended);
                    libraryParts?.Add(library.Started, pair.LibraryWire, library.Ended);
                }
            }

            if (round >= WarmUpRounds)
            {
                roundRatios.Add((double)libraryTicks / baselineTicks);
            }
        }

        Console.WriteLine(FormattableString.Invariant($"interleaved checkout: {rounds} rounds of {PairsPerRound} pairs (a raw POST and a checkout, alternating which goes first), one call at a time, to the loopback server"));
        Console.WriteLine(FormattableString.Invariant($"raw HttpClient POST:                  median {Statistics.Median(baselines),6:0.0} us, mean {baselines.Average(),6:0.0} us"));
        Console.WriteLine(FormattableString.Invariant($"ICheckoutService.CreateCheckoutAsync: median {Statistics.Median(libraries),6:0.0} us, mean {libraries.Average(),6:0.0} us"));
        if (baselineParts is not null)
        {
            Console.WriteLine(FormattableString.Invariant($"split, medians (means) in us:  before the wire       on the wire (server included)  after the wire"));
            Console.WriteLine(FormattableString.Invariant($"raw HttpClient POST:           {baselineParts}"));
            Console.WriteLine(FormattableString.Invariant($"CreateCheckoutAsync:           {libraryParts}"));
        }

        Console.WriteLine(FormattableString.Invariant($"quantiles in us (raw POST / library / difference): {Quantiles(baselines, libraries)}"));
        Console.WriteLine(FormattableString.Invariant($"ratio: of medians {Statistics.Median(libraries) / Statistics.Median(baselines):0.000}x, of means {libraries.Average() / baselines.Average():0.000}x; per round (means) median {Statistics.Median(roundRatios):0.000}x (min {roundRatios.Min():0.000}, max {roundRatios.Max():0.000})"));
    }

    /// <summary>
    /// The 10th, 25th, 50th, 75th and 90th percentiles of both cases' calls. A loopback call's times fall into a few
    /// modes (how many threads it had to wake), and which mode more calls fell into moves from run to run; the
    /// quantiles show where in that spread the library's calls differ.
    /// </summary>
    private static string Quantiles(List<double> baselines, List<double> libraries)
    {
        var raw = baselines.Order().ToArray();
        var library = libraries.Order().ToArray();
        return string.Join("; ", new[] { 10, 25, 50, 75, 90 }.Select(percent =>
        {
            var at = (raw.Length - 1) * percent / 100;
            return FormattableString.Invariant($"p{percent} {raw[at]:0.0} / {library[at]:0.0} / {library[at] - raw[at]:+0.0;-0.0}");
        }));
    }

    /// <summary>When one call started and ended, in <see cref="Stopwatch"/> ticks.</summary>
    private static async Task<(long Started, long Ended)> TimeAsync(Func<Task> call)
    {
        var started = Stopwatch.GetTimestamp();
        await call();
        return (started, Stopwatch.GetTimestamp());
    }

    /// <summary>The three parts of each call, in microseconds.</summary>
    private sealed class Parts(int capacity)
    {
        private readonly List<double> _before = new(capacity);
        private readonly List<double> _wire = new(capacity);
        private readonly List<double> _after = new(capacity);

        public void Add(long started, WireTimes wire, long ended)
        {
            _before.Add(Stopwatch.GetElapsedTime(started, wire.Sent).TotalMicroseconds);
            _wire.Add(Stopwatch.GetElapsedTime(wire.Sent, wire.Answered).TotalMicroseconds);
            _after.Add(Stopwatch.GetElapsedTime(wire.Answered, ended).TotalMicroseconds);
        }

        public override string ToString() => FormattableString.Invariant(
            $"{Statistics.Median(_before),5:0.0} ({_before.Average(),5:0.0})        {Statistics.Median(_wire),6:0.0} ({_wire.Average(),6:0.0})                {Statistics.Median(_after),5:0.0} ({_after.Average(),5:0.0})");
    }
}
