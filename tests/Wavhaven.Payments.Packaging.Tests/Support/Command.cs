using System.Diagnostics;

namespace Wavhaven.Payments.Packaging.Tests.Support;

/// <summary>Runs the dotnet CLI and returns its output; a non-zero exit fails with the output.</summary>
internal static class Dotnet
{
    public static Task<string> RunAsync(string workingDirectory, string arguments, TimeSpan? timeout = null) =>
        Command.RunAsync("dotnet", workingDirectory, arguments, timeout ?? TimeSpan.FromMinutes(3));
}

/// <summary>Runs a program and returns its output; a non-zero exit fails with the output.</summary>
internal static class Command
{
    public static async Task<string> RunAsync(string fileName, string workingDirectory, string arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {arguments} did not finish in time.");
        }

        // Each stream is read whole on its own and joined after: two readers appending to one StringBuilder raced.
        var output = await stdout + await stderr;
        process.ExitCode.Should().Be(0, "{0} {1} failed:\n{2}", fileName, arguments, output);
        return output;
    }
}
