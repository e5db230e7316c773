using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Wavhaven.Payments.Packaging.Tests.Support;

/// <summary>
/// A web app in a temporary folder of its own that installs the ASP.NET Core add-on and the emulator from the packed
/// packages' folder feed, warnings as errors. Disposing it deletes the folder.
/// </summary>
public sealed class ScratchApp : IDisposable
{
    private ScratchApp(string directory) => Directory = directory;

    /// <summary>This machine's runtime identifier, which a self-contained publish targets.</summary>
    public static string RuntimeIdentifier { get; } =
        $"{(OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux")}-{RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}";

    public string Directory { get; }

    /// <summary>Where <see cref="PublishAsync"/> puts the app.</summary>
    public string PublishDirectory => Path.Combine(Directory, "published");

    public static async Task<ScratchApp> CreateAsync(PackedPackages packages, string program, string folderPrefix)
    {
        var app = new ScratchApp(System.IO.Directory.CreateTempSubdirectory(folderPrefix).FullName);
        try
        {
            await app.WriteAsync(packages, program);
            return app;
        }
        catch
        {
            app.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The trim and AOT analysis warnings (<c>IL2xxx</c>, <c>IL3xxx</c>) in a publish's output, and the same codes raised
    /// as errors by warnings-as-errors.
    /// </summary>
    public static IReadOnlyList<string> AnalysisWarnings(string publishOutput) =>
        Regex.Matches(publishOutput, @"\b(warning|error) IL[23]\d{3}\b.*").Select(match => match.Value).ToList();

    /// <summary>
    /// What <see cref="ConfigurationBoundProgram"/> prints when its options bind, its misspelt key is refused with the
    /// settings it could have been (read through reflection, which trimming would break unnoticed), and its signed webhook
    /// is verified and fulfilled.
    /// </summary>
    public static void ShouldHaveRefusedBoundAndFulfilled(string output) =>
        output.Should().Contain("REFUSED Stripe:Plans:0:Prices:0:TestPriceID2 is not a setting. Check its spelling; the settings of Stripe:Plans:0:Prices:0 are: Interval, TestPriceId, LivePriceId, Amount, Currency.")
            .And.Contain("BOUND plans=1 grants=500 concurrency=2 secrets=1")
            .And.Contain("FULFILLED scratch-order-1 guest=True");

    /// <summary><c>dotnet run</c> in the app's folder.</summary>
    public Task<string> RunAsync() => Dotnet.RunAsync(Directory, "run", timeout: TimeSpan.FromMinutes(4));

    /// <summary>
    /// Publishes the app self-contained for this machine into <see cref="PublishDirectory"/>, with each trim or AOT
    /// warning shown rather than one per assembly, and returns the publish's output.
    /// </summary>
    public Task<string> PublishAsync(string properties, TimeSpan timeout) =>
        Dotnet.RunAsync(Directory, $"publish -c Release -r {RuntimeIdentifier} -o \"{PublishDirectory}\" -p:SelfContained=true -p:TrimmerSingleWarn=false {properties}", timeout);

    /// <summary>Runs the published app's executable and returns its output.</summary>
    public Task<string> RunPublishedAsync() =>
        Command.RunAsync(Path.Combine(PublishDirectory, OperatingSystem.IsWindows() ? "Scratch.exe" : "Scratch"), Directory, string.Empty, TimeSpan.FromMinutes(2));

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    private async Task WriteAsync(PackedPackages packages, string program)
    {
        await File.WriteAllTextAsync(Path.Combine(Directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{packages.Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        await File.WriteAllTextAsync(Path.Combine(Directory, "Scratch.csproj"), $"""
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
        await File.WriteAllTextAsync(Path.Combine(Directory, "Program.cs"), program);
    }

    /// <summary>
    /// The program that the trimmed and the native publishes run: options bound from configuration (a misspelt key
    /// first, then a good section), then a checkout and its webhook, as in <see cref="CodeConfiguredProgram"/>.
    /// </summary>
    public const string ConfigurationBoundProgram = """
        using System.Security.Cryptography;
        using Microsoft.AspNetCore.Hosting.Server;
        using Microsoft.AspNetCore.Hosting.Server.Features;
        using Microsoft.Extensions.Options;
        using Wavhaven.Payments.Catalog;
        using Wavhaven.Payments.Checkout;
        using Wavhaven.Payments.Fulfillment;
        using Wavhaven.Payments.Testing;

        """ + ScratchEmulator + """
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

    /// <summary>The program that <c>dotnet run</c> runs: options set in code, then a checkout and its webhook.</summary>
    public const string CodeConfiguredProgram = """
        using System.Security.Cryptography;
        using Microsoft.AspNetCore.Hosting.Server;
        using Microsoft.AspNetCore.Hosting.Server.Features;
        using Wavhaven.Payments.Catalog;
        using Wavhaven.Payments.Checkout;
        using Wavhaven.Payments.Fulfillment;
        using Wavhaven.Payments.Testing;

        """ + ScratchEmulator + """

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
    /// <summary>Both programs' start: the plan, an emulator that sells it, and a webhook secret (as <c>plan</c>, <c>stripe</c>, <c>secret</c>).</summary>
    private const string ScratchEmulator = """
        var plan = new PlanOptions
        {
            Id = "pack",
            BillingType = BillingType.OneTime,
            Prices = { new PlanPriceOptions { Interval = PriceInterval.OneTime, TestPriceId = "price_scratch_pack", Amount = 500, Currency = "usd" } },
        };
        await using var stripe = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = [plan] });
        var secret = "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

        """;

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
