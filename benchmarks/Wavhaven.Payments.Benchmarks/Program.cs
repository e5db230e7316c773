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
/// checkout's raw POST and library call in turn (<see cref="InterleavedCheckoutRun"/>).
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
            InterleavedProcessingRun.Run(Rounds(args), fullStore: args[0] == "--interleaved-full-store");
            return;
        }

        if (args is ["--interleaved-checkout", ..])
        {
            await InterleavedCheckoutRun.RunAsync(Rounds(args), split: args.Contains("--split"));
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

    private static int Rounds(string[] args) =>
        args.Length > 1 && int.TryParse(args[1], System.Globalization.CultureInfo.InvariantCulture, out var rounds) ? rounds : 20;
}
