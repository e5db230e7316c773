using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.AspNetCore.Tests.Webhooks;

public class RegistrationTests
{
    [Fact]
    public void MapStripeWebhook_WithoutAddStripePayments_ThrowsNamingTheFix()
    {
        var app = WebApplication.CreateSlimBuilder().Build();

        var act = () => app.MapStripeWebhook();

        act.Should().Throw<InvalidOperationException>().WithMessage("*AddStripePayments*");
    }

    [Fact]
    public void MapStripeWebhook_GuardsItsArguments()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddStripePayments(TestServices.DefaultOptions);
        var app = builder.Build();

        FluentActions.Invoking(() => StripeWebhookEndpointRouteBuilderExtensions.MapStripeWebhook(null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => app.MapStripeWebhook(string.Empty)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task TwoFulfillmentHandlersOfOneType_FailTheHostsStart()
    {
        var act = async () => await WebhookTestApp.StartAsync(payments: payments => payments
            .AddFulfillmentHandler<LicenseHandler>()
            .AddFulfillmentHandler<AnotherLicenseHandler>());

        (await act.Should().ThrowAsync<OptionsValidationException>())
            .Which.Message.Should().Contain("LicenseHandler").And.Contain("AnotherLicenseHandler").And.Contain("'license'");
    }

    [Fact]
    public void BuilderExtensions_GuardTheirArguments()
    {
        FluentActions.Invoking(() => StripePaymentsBuilderExtensions.AddFulfillmentHandler<LicenseHandler>(null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => StripePaymentsBuilderExtensions.AddSubscriptionHandler<SubscriptionRecorder>(null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => StripePaymentsBuilderExtensions.AddEventHandler<EventRecorder>(null!)).Should().Throw<ArgumentNullException>();
    }

    private sealed class AnotherLicenseHandler : IFulfillmentHandler
    {
        public string Type => "license";

        public Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
