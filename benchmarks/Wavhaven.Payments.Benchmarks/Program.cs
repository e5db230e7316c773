using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/Wavhaven.Payments.Benchmarks -- --filter '*'</c>.
/// </summary>
/// <remarks>
/// The job is short on purpose, for a shared 2-core machine: one process per benchmark, 4 warm-up and 12 measured
/// iterations of about 250 ms. Every case runs beside its baseline in the same process and the same minutes, so the
/// ratios hold even when the absolute times drift with the machine's neighbours.
/// </remarks>
public static class Program
{
    public static void Main(string[] args)
    {
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
}
