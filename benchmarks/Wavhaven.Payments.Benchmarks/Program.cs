using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/Wavhaven.Payments.Benchmarks -- --filter '*'</c>; with
/// <c>-- --interleaved [rounds]</c> (or <c>--interleaved-full-store</c>), the processing floor and case in alternation
/// instead (<see cref="InterleavedProcessingRun"/>); with <c>-- --interleaved-checkout [rounds] [--split]</c>, the
/// checkout's raw POST and library call in turn (<see cref="InterleavedCheckoutRun"/>); with
/// <c>-- --cold-checkout [rounds] [megabytes]</c>, the same pair without the network, with cold caches and asynchronous
/// answers (<see cref="ColdCheckoutRun"/>).
/// </summary>
/// <remarks>
/// The job is short on purpose, for a shared 2-core machine: one process per benchmark, 4 warm-up and 12 measured
/// iterations of about 250 ms. A case and its baseline run one after the other, each in its own process, within the
/// same minute or two: the ratio between them survives neighbours that slow the whole run down, not neighbours that
/// come and go between the two (run it again when a baseline's Error column is large).
/// </remarks>
public static class Program
{
    public static async Task Main(string[] args)
    {
        if (args is ["--interleaved" or "--interleaved-full-store", ..])
        {
            InterleavedProcessingRun.Run(Number(args, 1, 20), fullStore: args[0] == "--interleaved-full-store");
            return;
        }

        if (args is ["--interleaved-checkout", ..])
        {
            await InterleavedCheckoutRun.RunAsync(Number(args, 1, 20), split: args.Contains("--split"));
            return;
        }

        if (args is ["--cold-checkout", ..])
        {
            await ColdCheckoutRun.RunAsync(Number(args, 1, 20), Number(args, 2, 8));
            return;
        }

        var job = Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(4)
            .WithIterationCount(12)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .AsDefault();
        var config = DefaultConfig.Instance
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithOptions(ConfigOptions.DisableLogFile);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }

    /// <summary>The whole number at <paramref name="position"/> in <paramref name="args"/>, or <paramref name="otherwise"/>.</summary>
    private static int Number(string[] args, int position, int otherwise) =>
        args.Length > position && int.TryParse(args[position], System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : otherwise;
}
