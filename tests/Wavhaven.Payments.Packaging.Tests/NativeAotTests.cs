using Wavhaven.Payments.Packaging.Tests.Support;

namespace Wavhaven.Payments.Packaging.Tests;

/// <summary>
/// The scratch app that the trimmed test publishes, published again with <c>PublishAot</c>: the core, ASP.NET Core and
/// emulator packages are IsAotCompatible, so the whole-program AOT analysis finds nothing in them, and the native
/// executable still binds its options, refuses a misspelt key and fulfils a signed webhook from the emulator.
/// </summary>
[Collection(PackedPackagesCollection.Name)]
public sealed class NativeAotTests(PackedPackages packages, NativeAotPublish native) : IClassFixture<NativeAotPublish>
{
    [Fact]
    public async Task ScratchApp_PublishedWithNativeAot_HasNoTrimOrAotWarnings_AndShipsNoIl()
    {
        var (app, publish) = await native.PublishOnceAsync(packages);

        ScratchApp.AnalysisWarnings(publish).Should().BeEmpty();
        publish.Should().Contain("Generating native code", "the publish must have compiled the app ahead of time");
        File.Exists(Path.Combine(app.PublishDirectory, "Scratch.dll")).Should().BeFalse("a native executable carries its code, not IL for a JIT");
    }

    [Fact]
    public async Task ScratchApp_PublishedWithNativeAot_StillBindsChecksAndFulfils()
    {
        var (app, _) = await native.PublishOnceAsync(packages);

        ScratchApp.ShouldHaveRefusedBoundAndFulfilled(await app.RunPublishedAsync());
    }
}

/// <summary>
/// One Native AOT publish of the configuration-bound scratch app for all the tests of <see cref="NativeAotTests"/>: it
/// takes minutes. A failed publish fails each test with the same error.
/// </summary>
public sealed class NativeAotPublish : IDisposable
{
    private ScratchApp? _app;
    private Task<string>? _publish;

    /// <summary>The published app and the publish's output; publishes on the first call only.</summary>
    public async Task<(ScratchApp App, string PublishOutput)> PublishOnceAsync(PackedPackages packages)
    {
        _publish ??= PublishAsync(packages);
        var output = await _publish;
        return (_app!, output);
    }

    public void Dispose() => _app?.Dispose();

    private async Task<string> PublishAsync(PackedPackages packages)
    {
        RequireClangOnLinux();
        _app = await ScratchApp.CreateAsync(packages, ScratchApp.ConfigurationBoundProgram, "wavhaven-aot-");

        // clang by name: the SDK would otherwise fall back to gcc where clang is missing, and link differently from
        // one machine to the next.
        return await _app.PublishAsync("-p:PublishAot=true -p:CppCompilerAndLinker=clang", TimeSpan.FromMinutes(10));
    }

    /// <summary>
    /// Native AOT on Linux compiles and links with clang. Without it the tests fail saying what to install rather than
    /// skipping: a run without clang must not pass by never publishing.
    /// </summary>
    private static void RequireClangOnLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        if (!path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Any(directory => File.Exists(Path.Combine(directory, "clang"))))
        {
            Assert.Fail("Native AOT on Linux needs clang, and there is no clang on PATH. Install it with zlib1g-dev (Debian: apt-get install clang zlib1g-dev; .ci/run installs both when missing).");
        }
    }
}
