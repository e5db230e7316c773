using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Support;

/// <summary>The library on the EF Core stores of a <see cref="TestDatabase"/>, without a host: for tests of the stores themselves.</summary>
public static class StoreServices
{
    public static ServiceProvider Build(TestDatabase database, TimeProvider? timeProvider = null, Action<StripePaymentsOptions>? options = null, Action<IServiceCollection>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        configure?.Invoke(services);
        if (timeProvider is not null)
        {
            services.TryAddSingleton(timeProvider);
        }

        services.AddDbContext<TestDbContext>(database.Configure);
        services.AddStripePayments(o =>
            {
                TestServices.DefaultOptions(o);
                options?.Invoke(o);
            })
            .UseEntityFrameworkStores<TestDbContext>();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
