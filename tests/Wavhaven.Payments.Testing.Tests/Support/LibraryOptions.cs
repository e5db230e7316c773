using Microsoft.Extensions.DependencyInjection;

namespace Wavhaven.Payments.Testing.Tests.Support;

/// <summary>The library's settings for the end-to-end tests: pointed at an emulator, selling <see cref="TestPlans"/>.</summary>
public static class LibraryOptions
{
    /// <summary>Sets a test key, the emulator's URL, no client retries, the shop's URLs and the test plans.</summary>
    public static void Apply(StripePaymentsOptions options, StripeEmulator emulator)
    {
        options.SecretKey = "sk_test_emulator";
        options.ApiBaseUrl = emulator.BaseUrl;
        options.MaxNetworkRetries = 0;
        options.SuccessUrl = "https://shop.example/checkout/success";
        options.CancelUrl = "https://shop.example/cart";
        foreach (var plan in TestPlans.Create())
        {
            options.Plans.Add(plan);
        }
    }

    /// <summary>
    /// The library's services against <paramref name="emulator"/>, as an app's container builds them. The checkout and portal
    /// services are scoped; tests may use the root provider as their one scope.
    /// </summary>
    public static ServiceProvider BuildServices(StripeEmulator emulator)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddStripePayments(options => Apply(options, emulator));
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = false });
    }
}
