using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
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
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), ScratchProgram);

            var output = await Dotnet.RunAsync(app, "run", timeout: TimeSpan.FromMinutes(4));

            output.Should().Contain("FULFILLED scratch-order-1 guest=True");
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
        var command = System.Text.RegularExpressions.Regex.Match(readme, "`dotnet (pack Payments\\.sln[^`]*)`").Groups[1].Value;
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
    public static async Task<string> RunAsync(string workingDirectory, string arguments, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
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
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {arguments} did not finish in time.");
        }

        // Each stream is read whole on its own and joined after: two readers appending to one StringBuilder raced.
        var output = await stdout + await stderr;
        process.ExitCode.Should().Be(0, "dotnet {0} failed:\n{1}", arguments, output);
        return output;
    }
}
