using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Customers;

/// <summary>
/// <see cref="ICustomerResolver.UpdateCustomerAsync"/>: a checkout gives the customer an email only when it creates it,
/// so the app tells the library when the user changes theirs; a request Stripe would store wrongly is refused first.
/// </summary>
public class CustomerResolverUpdateTests
{
    private static readonly CustomerKey User42 = new("user-42");

    private static async Task<(ICustomerResolver Sut, StubStripeHandler Handler, LogSink Logs)> CreateAsync(string? storedCustomerId = "cus_stored")
    {
        var handler = new StubStripeHandler();
        var logs = new LogSink();
        var services = TestServices.Build(handler, services: collection => collection.AddLogging(logging => logging.AddProvider(logs)));
        if (storedCustomerId is not null)
        {
            await services.GetRequiredService<ICustomerStore>().SetCustomerIdAsync(User42, storedCustomerId);
        }

        return (services.GetRequiredService<ICustomerResolver>(), handler, logs);
    }

    [Theory]
    [InlineData("sam.new@example.com", null, "email=sam.new%40example.com")]
    [InlineData(null, "Samantha Doe", "name=Samantha%20Doe")]
    [InlineData("sam.new@example.com", "Samantha", "email=sam.new%40example.com&name=Samantha")]
    public async Task UpdatesTheStoredCustomer_WithOnlyTheFieldsGiven_UnderAnIdempotencyKey(string? email, string? name, string body)
    {
        var (sut, handler, _) = await CreateAsync();
        handler.OnJson(HttpMethod.Post, "/v1/customers/cus_stored", StripeResponses.CustomerJson("cus_stored", "user-42"));

        var updated = await sut.UpdateCustomerAsync(User42, email, name);

        updated.Should().BeTrue();
        var request = handler.Requests.Should().ContainSingle().Subject;
        request.Method.Should().Be(HttpMethod.Post);
        request.Path.Should().Be("/v1/customers/cus_stored");
        request.Body.Should().Be(body, "a field not given is left as it is on the customer");
        request.Header("Idempotency-Key").Should().StartWith("wavhaven-customer-update-", "a retried update must not be applied twice");
    }

    [Fact]
    public async Task AUserWithoutACustomer_IsAnsweredFalse_WithoutAnUpdate()
    {
        var (sut, handler, _) = await CreateAsync(storedCustomerId: null);
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.Search());

        var updated = await sut.UpdateCustomerAsync(User42, "sam.new@example.com", null);

        updated.Should().BeFalse();
        handler.Requests.Should().OnlyContain(request => request.Method == HttpMethod.Get, "there is no customer to update, and an update creates none");
    }

    [Fact]
    public async Task AStoredCustomerStripeNoLongerHas_IsAnsweredFalse_AndLogged()
    {
        var (sut, handler, logs) = await CreateAsync();
        handler.On(HttpMethod.Post, "/v1/customers/cus_stored", _ => StubStripeHandler.Error(HttpStatusCode.NotFound, "invalid_request_error",
            "No such customer: 'cus_stored'", param: "id", code: "resource_missing"));

        var updated = await sut.UpdateCustomerAsync(User42, "sam.new@example.com", null);

        updated.Should().BeFalse("the user's next checkout replaces the missing customer, with that checkout's email");
        logs.Lines.Should().Contain(line => line.EventName == "UpdatedCustomerMissing" && line.Level == LogLevel.Warning && line.Message.Contains("cus_stored", StringComparison.Ordinal));
        logs.Lines.Should().NotContain(line => line.Message.Contains("sam.new@example.com", StringComparison.Ordinal), "emails are personal data");
    }

    [Fact]
    public async Task AnotherRefusalOfStripes_IsThrown()
    {
        var (sut, handler, _) = await CreateAsync();
        handler.On(HttpMethod.Post, "/v1/customers/cus_stored", _ => StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error",
            "Invalid email address: sam.new@example.com", param: "email", code: "email_invalid"));

        await FluentActions.Awaiting(() => sut.UpdateCustomerAsync(User42, "sam.new@example.com", null)).Should().ThrowAsync<StripeApiException>();
    }

    [Theory]
    [InlineData("not-an-email", null, "email", "The email is not a valid email address*")]
    [InlineData("sam@localhost", null, "email", "The email is not a valid email address*")]
    [InlineData("Sam <sam@example.com>", null, "email", "The email is not a valid email address*")]
    [InlineData("", null, "email", "The email is not a valid email address*")]
    [InlineData(null, " ", "name", "The name is blank*")]
    [InlineData(null, null, "email", "Nothing to update*")]
    public async Task ARequestStripeWouldStoreWrongly_IsRefused_WithoutACall(string? email, string? name, string parameter, string message)
    {
        var (sut, handler, _) = await CreateAsync();

        (await FluentActions.Awaiting(() => sut.UpdateCustomerAsync(User42, email, name)).Should().ThrowAsync<ArgumentException>())
            .Where(exception => exception.ParamName == parameter).WithMessage(message);
        handler.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task ANameCutInsideAnEmoji_IsRefused_WithoutACall()
    {
        var (sut, handler, _) = await CreateAsync();
        var name = "Sam " + "\ud83c\udfb5"[..1]; // an attribute's string cannot hold a lone surrogate: it arrives as U+FFFD

        (await FluentActions.Awaiting(() => sut.UpdateCustomerAsync(User42, null, name)).Should().ThrowAsync<ArgumentException>())
            .WithMessage("The name holds an unpaired UTF-16 surrogate*");
        handler.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task AResolverWrittenBeforeTheMethod_ThrowsNotSupported()
    {
        ICustomerResolver older = new ResolverWithoutUpdate();

        await FluentActions.Awaiting(() => older.UpdateCustomerAsync(User42, "sam.new@example.com", null)).Should().ThrowAsync<NotSupportedException>();
    }

    private sealed class ResolverWithoutUpdate : ICustomerResolver
    {
        public Task<string?> FindCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default) => Task.FromResult<string?>(null);

        public Task<string> GetOrCreateCustomerIdAsync(CustomerKey key, string? email, string? name, CancellationToken cancellationToken = default) => Task.FromResult("cus_1");
    }
}
