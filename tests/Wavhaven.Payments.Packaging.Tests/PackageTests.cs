using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Wavhaven.Payments.Packaging.Tests.Support;

namespace Wavhaven.Payments.Packaging.Tests;

[Collection(PackedPackagesCollection.Name)]
public sealed class PackageTests(PackedPackages packages)
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

    [Theory]
    [InlineData("Wavhaven.Payments.AspNetCore")]
    public void PackageBuiltOnTheCoresInternals_DependsOnExactlyTheCoreItWasBuiltWith(string id)
    {
        // The core is InternalsVisibleTo this package (its endpoint calls WebhookProcessor.RecordBodyTooLarge, its health
        // check registers the internal StripePaymentsHealthCheck), so it only works with the core it was compiled against.
        // A plain ">= version" dependency lets an app update Wavhaven.Payments alone (a direct reference, Dependabot) and
        // meet a MissingMethodException or TypeLoadException at run time instead of a restore error.
        using var package = ZipFile.OpenRead(Path.Combine(packages.Feed, $"{id}.{packages.Version}.nupkg"));
        XNamespace ns = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";
        using var nuspec = package.GetEntry($"{id}.nuspec")!.Open();
        var core = XDocument.Load(nuspec).Descendants(ns + "dependency").Single(d => d.Attribute("id")!.Value == "Wavhaven.Payments");

        core.Attribute("version")!.Value.Should().Be($"[{packages.Version}]");
    }

    [Fact]
    public async Task ScratchApp_InstallsThePackagesFromAFolderFeed_AndRunsACheckoutAndAWebhookAgainstTheEmulator()
    {
        using var app = await ScratchApp.CreateAsync(packages, ScratchApp.CodeConfiguredProgram, "wavhaven-scratch-");

        var output = await app.RunAsync();

        output.Should().Contain("FULFILLED scratch-order-1 guest=True");
    }

    [Fact]
    public async Task ScratchApp_PublishedTrimmed_HasNoTrimWarnings_AndStillBindsChecksAndFulfils()
    {
        // The core, ASP.NET Core and emulator packages are IsAotCompatible: an app that trims them gets no warning
        // (IL2xxx whole-program, with each warning shown rather than one per assembly), and the trimmed app still binds
        // its options from configuration, names a misspelt key with the settings it could have been, and verifies and
        // fulfils a signed webhook. NativeAotTests publishes the same app with Native AOT.
        using var app = await ScratchApp.CreateAsync(packages, ScratchApp.ConfigurationBoundProgram, "wavhaven-trimmed-");

        var publish = await app.PublishAsync("-p:PublishTrimmed=true", TimeSpan.FromMinutes(6));

        ScratchApp.AnalysisWarnings(publish).Should().BeEmpty();
        publish.Should().Contain("Optimizing assemblies for size", "the publish must have trimmed the app");
        ScratchApp.ShouldHaveRefusedBoundAndFulfilled(await app.RunPublishedAsync());
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
}
