namespace Wavhaven.Payments.Packaging.Tests.Support;

/// <summary>Packs the src projects once (Release, CI settings, a version of its own) for every test of the collection.</summary>
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

/// <summary>
/// The packaging tests share one pack, and run one at a time: each restores, builds or publishes, and two at once on a
/// small machine only make both slower.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PackedPackagesCollection : ICollectionFixture<PackedPackages>
{
    public const string Name = "PackedPackages";
}
