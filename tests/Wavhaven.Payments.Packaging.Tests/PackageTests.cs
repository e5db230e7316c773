using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Wavhaven.Payments.Packaging.Tests;

/// <summary>Packs the src projects once (Release, CI settings, a version of its own) for every test of the class.</summary>
public sealed class PackedPackages : IAsyncLifetime
{
    public static readonly string[] Ids = ["Wavhaven.Payments", "Wavhaven.Payments.AspNetCore", "Wavhaven.Payments.EntityFrameworkCore", "Wavhaven.Payments.Testing"];

    public static TheoryData<string> IdData => [.. Ids];

    public string Version { get; } = "0.1.0-packtest." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);

    public string Feed { get; } = Directory.CreateTempSubdirectory("wavhaven-feed-").FullName;

    public string RepositoryRoot { get; } = FindRepositoryRoot();

    public async Task InitializeAsync()
    {
        foreach (var id in Ids)
        {
            await Dotnet.RunAsync(RepositoryRoot, $"pack src/{id}/{id}.csproj -c Release -o \"{Feed}\" -p:Version={Version} -p:ContinuousIntegrationBuild=true");
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Feed, recursive: true);
        return Task.CompletedTask;
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Payments.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (with Payments.sln) was not found above " + AppContext.BaseDirectory);
    }
}

public sealed class PackageTests(PackedPackages packages) : IClassFixture<PackedPackages>
{
    [Theory]
    [MemberData(nameof(PackedPackages.IdData), MemberType = typeof(PackedPackages))]
    public void Package_HasItsReadmeLicenceDocsRepositoryAndSymbols(string id)
    {
        var nupkg = Path.Combine(packages.Feed, $"{id}.{packages.Version}.nupkg");
        var snupkg = Path.Combine(packages.Feed, $"{id}.{packages.Version}.snupkg");
        File.Exists(nupkg).Should().BeTrue();
        File.Exists(snupkg).Should().BeTrue("every package ships a symbols package");

        using var package = ZipFile.OpenRead(nupkg);
        var entries = package.Entries.Select(entry => entry.FullName).ToList();
        entries.Should().Contain(["README.md", $"lib/net10.0/{id}.dll", $"lib/net10.0/{id}.xml"]);

        XNamespace ns = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";
        using var nuspecStream = package.GetEntry($"{id}.nuspec")!.Open();
        var metadata = XDocument.Load(nuspecStream).Root!.Element(ns + "metadata")!;
        metadata.Element(ns + "license")!.Value.Should().Be("MIT");
        metadata.Element(ns + "license")!.Attribute("type")!.Value.Should().Be("expression");
        metadata.Element(ns + "readme")!.Value.Should().Be("README.md");
        metadata.Element(ns + "description")!.Value.Should().NotBeNullOrWhiteSpace();
        var repository = metadata.Element(ns + "repository")!;
        repository.Attribute("type")!.Value.Should().Be("git");
        repository.Attribute("url")!.Value.Should().Be("https://github.com/wavhaven/wavhaven-payments");
        repository.Attribute("commit")!.Value.Should().MatchRegex("^[0-9a-f]{40}$");

        using var symbols = ZipFile.OpenRead(snupkg);
        var pdbEntry = symbols.GetEntry($"lib/net10.0/{id}.pdb");
        pdbEntry.Should().NotBeNull();
        using var pdbStream = new MemoryStream();
        using (var source = pdbEntry!.Open())
        {
            source.CopyTo(pdbStream);
        }

        pdbStream.Position = 0;
        using var provider = MetadataReaderProvider.FromPortablePdbStream(pdbStream);
        var reader = provider.GetMetadataReader();
        var documents = reader.Documents.Select(handle => reader.GetString(reader.GetDocument(handle).Name)).ToList();
        documents.Should().NotBeEmpty();
        documents.Should().OnlyContain(path => path.StartsWith("/_/", StringComparison.Ordinal), "a CI build maps source paths deterministically, for SourceLink");
    }

    [Fact]
    public void CorePackage_DependsOnlyOnMicrosoftExtensionsAndPollyCore()
    {
        using var package = ZipFile.OpenRead(Path.Combine(packages.Feed, $"Wavhaven.Payments.{packages.Version}.nupkg"));
        XNamespace ns = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";
        using var nuspec = package.GetEntry("Wavhaven.Payments.nuspec")!.Open();
        var dependencies = XDocument.Load(nuspec).Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).ToList();

        dependencies.Should().NotBeEmpty().And.OnlyContain(id => id.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) || id == "Polly.Core");
    }

    [Fact]
    public async Task ScratchApp_InstallsThePackagesFromAFolderFeed_AndRunsACheckoutAndAWebhookAgainstTheEmulator()
    {
        var app = Directory.CreateTempSubdirectory("wavhaven-scratch-").FullName;
        try
        {
            await WriteScratchAppAsync(app, ScratchProgram);

            var output = await Dotnet.RunAsync(app, "run", timeout: TimeSpan.FromMinutes(4));

            output.Should().Contain("FULFILLED scratch-order-1 guest=True");
        }
        finally
        {
            Directory.Delete(app, recursive: true);
        }
    }

    [Fact]
    public async Task ScratchApp_PublishedTrimmed_HasNoTrimWarnings_AndStillBindsChecksAndFulfils()
    {
        // The core, ASP.NET Core and emulator packages are IsAotCompatible: an app that trims them gets no warning
        // (IL2xxx whole-program, with each warning shown rather than one per assembly), and the trimmed app still binds
        // its options from configuration, names a misspelt key with the settings it could have been (read through
        // reflection, which trimming would break unnoticed), and verifies and fulfils a signed webhook.
        var app = Directory.CreateTempSubdirectory("wavhaven-trimmed-").FullName;
        try
        {
            await WriteScratchAppAsync(app, TrimmedProgram);
            var runtime = $"{(OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux")}-{RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}";
            var output = Path.Combine(app, "published");

            var publish = await Dotnet.RunAsync(app, $"publish -c Release -r {runtime} -o \"{output}\" -p:PublishTrimmed=true -p:SelfContained=true -p:TrimmerSingleWarn=false", timeout: TimeSpan.FromMinutes(6));

            Regex.Matches(publish, @"\b(warning|error) IL[23]\d{3}\b.*").Select(match => match.Value).Should().BeEmpty();
            publish.Should().Contain("Optimizing assemblies for size", "the publish must have trimmed the app");
            var run = await Command.RunAsync(Path.Combine(output, OperatingSystem.IsWindows() ? "Scratch.exe" : "Scratch"), app, string.Empty, TimeSpan.FromMinutes(2));
            run.Should().Contain("REFUSED Stripe:Plans:0:Prices:0:TestPriceID2 is not a setting. Check its spelling; the settings of Stripe:Plans:0:Prices:0 are: Interval, TestPriceId, LivePriceId, Amount, Currency.")
                .And.Contain("BOUND plans=1 grants=500 concurrency=2 secrets=1")
                .And.Contain("FULFILLED scratch-order-1 guest=True");
        }
        finally
        {
            Directory.Delete(app, recursive: true);
        }
    }

    [Fact]
    public async Task ReadmePackCommand_Succeeds_AndGivesOnePackagePerSrcProject()
    {
        // The README's "Packages" section tells a reader to pack with this exact command: it must exit 0, not only
        // leave the packages behind.
        var readme = await File.ReadAllTextAsync(Path.Combine(packages.RepositoryRoot, "README.md"));
        var command = Regex.Match(readme, "`dotnet (pack Payments\\.sln[^`]*)`").Groups[1].Value;
        command.Should().NotBeEmpty("the README shows how to pack the solution");
        var feed = Directory.CreateTempSubdirectory("wavhaven-readme-pack-").FullName;
        try
        {
            await Dotnet.RunAsync(packages.RepositoryRoot, $"{command} -o \"{feed}\" -p:Version={packages.Version}", timeout: TimeSpan.FromMinutes(10));

            Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName).Should()
                .BeEquivalentTo(PackedPackages.Ids.Select(id => $"{id}.{packages.Version}.nupkg"));
        }
        finally
        {
            Directory.Delete(feed, recursive: true);
        }
    }

    /// <summary>A web app that installs the ASP.NET Core add-on and the emulator from the folder feed, warnings as errors.</summary>
    private async Task WriteScratchAppAsync(string app, string program)
    {
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{packages.Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "Scratch.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Wavhaven.Payments.AspNetCore" Version="{packages.Version}" />
                <PackageReference Include="Wavhaven.Payments.Testing" Version="{packages.Version}" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), program);
    }

    /// <summary>
    /// The scratch app for trimming: options bound from configuration (a misspelt key first, then a good section), then a
    /// checkout and its webhook, as in <see cref="ScratchProgram"/>.
    /// </summary>
    private const string TrimmedProgram = """
        using System.Security.Cryptography;
        using Microsoft.AspNetCore.Hosting.Server;
        using Microsoft.AspNetCore.Hosting.Server.Features;
        using Microsoft.Extensions.Options;
        using Wavhaven.Payments.Catalog;
        using Wavhaven.Payments.Checkout;
        using Wavhaven.Payments.Fulfillment;
        using Wavhaven.Payments.Testing;

        var plan = new PlanOptions
        {
            Id = "pack",
            BillingType = BillingType.OneTime,
            Prices = { new PlanPriceOptions { Interval = PriceInterval.OneTime, TestPriceId = "price_scratch_pack", Amount = 500, Currency = "usd" } },
        };
        await using var stripe = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = [plan] });
        var secret = "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var settings = new Dictionary<string, string?>
        {
            ["Stripe:SecretKey"] = stripe.SecretKey,
            ["Stripe:ApiBaseUrl"] = stripe.BaseUrl.ToString(),
            ["Stripe:WebhookSecrets:0"] = secret,
            ["Stripe:SuccessUrl"] = "https://scratch.example/ok",
            ["Stripe:CancelUrl"] = "https://scratch.example/cart",
            ["Stripe:WebhookQueue:MaxConcurrency"] = "2",
            ["Stripe:Plans:0:Id"] = "pack",
            ["Stripe:Plans:0:BillingType"] = "OneTime",
            ["Stripe:Plans:0:Prices:0:Interval"] = "OneTime",
            ["Stripe:Plans:0:Prices:0:TestPriceId"] = "price_scratch_pack",
            ["Stripe:Plans:0:Prices:0:Amount"] = "500",
            ["Stripe:Plans:0:Prices:0:Currency"] = "usd",
            ["Stripe:Plans:0:Grants:credits"] = "500",
        };

        // A misspelt key fails the start, named with the settings it could have been.
        var misspelt = WebApplication.CreateSlimBuilder(args);
        misspelt.Configuration.AddInMemoryCollection(settings).AddInMemoryCollection(new Dictionary<string, string?> { ["Stripe:Plans:0:Prices:0:TestPriceID2"] = "price_x" });
        misspelt.Services.AddStripePayments(misspelt.Configuration.GetSection("Stripe"));
        await using (var bad = misspelt.Build())
        {
            try
            {
                await bad.StartAsync();
                Console.WriteLine("MISSPELT KEY ACCEPTED");
            }
            catch (OptionsValidationException exception)
            {
                Console.WriteLine("REFUSED " + string.Join(" | ", exception.Failures));
            }
        }

        var builder = WebApplication.CreateSlimBuilder(args);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<Fulfilled>();
        builder.Services.AddStripePayments(builder.Configuration.GetSection("Stripe")).AddFulfillmentHandler<ScratchHandler>();

        var app = builder.Build();
        app.MapStripeWebhook();
        await app.StartAsync();
        var options = app.Services.GetRequiredService<IOptions<Wavhaven.Payments.StripePaymentsOptions>>().Value;
        Console.WriteLine($"BOUND plans={options.Plans.Count} grants={options.Plans[0].Grants["credits"]} concurrency={options.WebhookQueue.MaxConcurrency} secrets={options.WebhookSecrets.Count}");
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        stripe.AddWebhookEndpoint(new Uri(address + "/api/webhooks/stripe"), secret);

        """ + ScratchPurchase;

    private const string ScratchProgram = """
        using System.Security.Cryptography;
        using Microsoft.AspNetCore.Hosting.Server;
        using Microsoft.AspNetCore.Hosting.Server.Features;
        using Wavhaven.Payments.Catalog;
        using Wavhaven.Payments.Checkout;
        using Wavhaven.Payments.Fulfillment;
        using Wavhaven.Payments.Testing;

        var plan = new PlanOptions
        {
            Id = "pack",
            BillingType = BillingType.OneTime,
            Prices = { new PlanPriceOptions { Interval = PriceInterval.OneTime, TestPriceId = "price_scratch_pack", Amount = 500, Currency = "usd" } },
        };
        await using var stripe = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = [plan] });
        var secret = "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

        var builder = WebApplication.CreateSlimBuilder(args);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton<Fulfilled>();
        builder.Services.AddStripePayments(options =>
            {
                options.SecretKey = stripe.SecretKey;
                options.ApiBaseUrl = stripe.BaseUrl;
                options.WebhookSecrets.Add(secret);
                options.SuccessUrl = "https://scratch.example/ok";
                options.CancelUrl = "https://scratch.example/cart";
                options.Plans.Add(plan);
            })
            .AddFulfillmentHandler<ScratchHandler>();

        var app = builder.Build();
        app.MapStripeWebhook();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        stripe.AddWebhookEndpoint(new Uri(address + "/api/webhooks/stripe"), secret);

        """ + ScratchPurchase;

    /// <summary>What both scratch programs do once their app has started: a guest's checkout, paid, fulfilled through the webhook.</summary>
    private const string ScratchPurchase = """

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var session = await scope.ServiceProvider.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
            {
                Buyer = CheckoutBuyer.Guest("scratch@example.com", "scratch-order-1"),
                Lines = [CheckoutLine.ForPlan("pack")],
                FulfillmentType = "scratch",
            });
            await stripe.CompleteCheckoutAsync(session.Url.ToString());
        }

        await stripe.WaitForDeliveriesAsync();
        var context = await app.Services.GetRequiredService<Fulfilled>().Completion.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Console.WriteLine($"FULFILLED {context.UserId} guest={context.IsGuest}");
        await app.StopAsync();

        sealed class Fulfilled
        {
            public TaskCompletionSource<FulfillmentContext> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        sealed class ScratchHandler(Fulfilled fulfilled) : IFulfillmentHandler
        {
            public string Type => "scratch";

            public Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
            {
                fulfilled.Completion.TrySetResult(context);
                return Task.CompletedTask;
            }
        }
        """;
}

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
