using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Customers;

public class EntityFrameworkCustomerStoreTests
{
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task UserAndTenant_RoundTripToTheirCustomer_AcrossScopes(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        await using var services = StoreServices.Build(database);

        await using (var scope = services.CreateAsyncScope())
        {
            var sut = scope.ServiceProvider.GetRequiredService<ICustomerStore>();
            await sut.SetCustomerIdAsync(new CustomerKey("user-1"), "cus_plain");
            await sut.SetCustomerIdAsync(new CustomerKey("user-1", "tenant-a"), "cus_tenant_a");
            await sut.SetCustomerIdAsync(new CustomerKey("user-2", "tenant-a"), "cus_other");
        }

        await using (var scope = services.CreateAsyncScope())
        {
            var sut = scope.ServiceProvider.GetRequiredService<ICustomerStore>();
            (await sut.GetCustomerIdAsync(new CustomerKey("user-1"))).Should().Be("cus_plain");
            (await sut.GetCustomerIdAsync(new CustomerKey("user-1", "tenant-a"))).Should().Be("cus_tenant_a");
            (await sut.GetCustomerIdAsync(new CustomerKey("user-2", "tenant-a"))).Should().Be("cus_other");
            (await sut.GetCustomerIdAsync(new CustomerKey("user-2"))).Should().BeNull();
            (await sut.GetCustomerIdAsync(new CustomerKey("user-1", "tenant-b"))).Should().BeNull();
        }
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task SavingAgain_ReplacesTheCustomer_EvenWhenTwoSavesRace(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        await using var services = StoreServices.Build(database);
        var key = new CustomerKey("user-9", "tenant-x");

        await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            await using var scope = services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<ICustomerStore>().SetCustomerIdAsync(key, "cus_race_" + i);
        }));
        await using (var scope = services.CreateAsyncScope())
        {
            var sut = scope.ServiceProvider.GetRequiredService<ICustomerStore>();
            (await sut.GetCustomerIdAsync(key)).Should().StartWith("cus_race_");
            await sut.SetCustomerIdAsync(key, "cus_final");
            (await sut.GetCustomerIdAsync(key)).Should().Be("cus_final");
        }
    }
}
