using System.Net;
using Wavhaven.Payments.Testing.Tests.Support;

namespace Wavhaven.Payments.Testing.Tests.Portal;

public sealed class BillingPortalTests : EmulatorTest
{
    private async Task<(string SubscriptionId, string CustomerId, string ItemId)> SubscribedAsync()
    {
        var subscriptionId = await SubscribeAsync();
        var subscription = await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId);
        return (subscriptionId, (string)subscription["customer"]!, (string)subscription["items"]!["data"]![0]!["id"]!);
    }

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string url, params (string Name, string Value)[] fields)
    {
        using var form = new FormUrlEncodedContent(fields.Select(field => new KeyValuePair<string, string>(field.Name, field.Value)));
        return await client.PostAsync(url, form);
    }

    [Fact]
    public async Task Create_RequiresAnExistingCustomer()
    {
        var missing = await Stripe.PostAsync("/v1/billing_portal/sessions", "return_url=https%3A%2F%2Fshop.example%2Faccount");
        var unknown = await Stripe.PostAsync("/v1/billing_portal/sessions", "customer=cus_nobody");

        missing.Status.Should().Be(HttpStatusCode.BadRequest);
        missing.Error["param"]!.GetValue<string>().Should().Be("customer");
        unknown.Status.Should().Be(HttpStatusCode.BadRequest);
        unknown.Error["code"]!.GetValue<string>().Should().Be("resource_missing");
    }

    [Fact]
    public async Task SwitchConfirmation_UpdatesTheSubscriptionEmitsUpdatedWithPreviousAttributesAndRedirects()
    {
        var (subscriptionId, customerId, itemId) = await SubscribedAsync();
        var portal = await Stripe.PostOkAsync("/v1/billing_portal/sessions",
            $"customer={customerId}&return_url=https%3A%2F%2Fshop.example%2Faccount"
            + "&flow_data[type]=subscription_update_confirm"
            + $"&flow_data[subscription_update_confirm][subscription]={subscriptionId}"
            + $"&flow_data[subscription_update_confirm][items][0][id]={itemId}"
            + $"&flow_data[subscription_update_confirm][items][0][price]={TestPlans.TeamMonthPrice}"
            + "&flow_data[after_completion][type]=redirect&flow_data[after_completion][redirect][return_url]=https%3A%2F%2Fshop.example%2Fswitched");
        var url = (string)portal["url"]!;
        url.Should().Be(Emulator.BaseUrl + "billing/portal/" + (string)portal["id"]!);
        ((string)portal["id"]!).Should().StartWith("bps_");

        var page = await Stripe.Client.GetStringAsync(url);
        page.Should().Contain("Confirm your update").And.Contain("Pro").And.Contain("Team");
        var before = Emulator.Events.Count;
        using var response = await PostFormAsync(Stripe.Client, url, ("action", "switch"), ("subscription", subscriptionId), ("item", itemId), ("price", TestPlans.TeamMonthPrice));

        response.StatusCode.Should().Be(HttpStatusCode.SeeOther);
        response.Headers.Location.Should().Be(new Uri("https://shop.example/switched"));
        EventTypesSince(before).Should().Equal("customer.subscription.updated");
        var updated = LastEvent("customer.subscription.updated").ToJsonObject();
        ((string)updated["data"]!["object"]!["items"]!["data"]![0]!["price"]!["id"]!).Should().Be(TestPlans.TeamMonthPrice);
        ((string)updated["data"]!["previous_attributes"]!["items"]!["data"]![0]!["price"]!["id"]!).Should().Be(TestPlans.ProMonthPrice);
        var subscription = await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId);
        ((string)subscription["items"]!["data"]![0]!["price"]!["id"]!).Should().Be(TestPlans.TeamMonthPrice);
    }

    [Fact]
    public async Task CancelThenResume_SetsAndClearsCancelAtAndReturns()
    {
        var (subscriptionId, customerId, _) = await SubscribedAsync();
        var portal = await Stripe.PostOkAsync("/v1/billing_portal/sessions", $"customer={customerId}&return_url=https%3A%2F%2Fshop.example%2Faccount");
        var url = (string)portal["url"]!;

        var page = await Stripe.Client.GetStringAsync(url);
        using var cancel = await PostFormAsync(Stripe.Client, url, ("action", "cancel"), ("subscription", subscriptionId));
        var canceling = LastEvent("customer.subscription.updated").ToJsonObject();
        using var resume = await PostFormAsync(Stripe.Client, url, ("action", "resume"), ("subscription", subscriptionId));
        var resumed = LastEvent("customer.subscription.updated").ToJsonObject();

        page.Should().Contain("Pro").And.Contain("Cancel at period end").And.Contain("Switch to Team");
        cancel.Headers.Location.Should().Be(new Uri("https://shop.example/account"));
        // Flexible billing mode: the portal schedules the end as cancel_at, and cancel_at_period_end stays false.
        ((bool)canceling["data"]!["object"]!["cancel_at_period_end"]!).Should().BeFalse();
        canceling["data"]!["object"]!["cancel_at"].Should().NotBeNull();
        canceling["data"]!["previous_attributes"]!.AsObject().ContainsKey("cancel_at").Should().BeTrue();
        canceling["data"]!["previous_attributes"]!["cancel_at"].Should().BeNull();
        resumed["data"]!["object"]!["cancel_at"].Should().BeNull();
        ((long)resumed["data"]!["previous_attributes"]!["cancel_at"]!).Should().Be((long)canceling["data"]!["object"]!["cancel_at"]!);
    }

    [Fact]
    public async Task Create_RefusesASwitchOfAnotherCustomersSubscription()
    {
        var (subscriptionId, _, itemId) = await SubscribedAsync();
        var stranger = (string)(await Stripe.PostOkAsync("/v1/customers", "email=x%40example.com"))["id"]!;

        var answer = await Stripe.PostAsync("/v1/billing_portal/sessions",
            $"customer={stranger}&flow_data[type]=subscription_update_confirm&flow_data[subscription_update_confirm][subscription]={subscriptionId}&flow_data[subscription_update_confirm][items][0][id]={itemId}&flow_data[subscription_update_confirm][items][0][price]={TestPlans.TeamMonthPrice}");

        answer.Status.Should().Be(HttpStatusCode.BadRequest);
        answer.Error["param"]!.GetValue<string>().Should().Be("flow_data[subscription_update_confirm][subscription]");
    }

    /// <summary>
    /// Stripe's API reference (every official SDK): <c>flow_data[subscription_update_confirm][items]</c> takes "only up to
    /// one [item] and subscriptions with multiple items are not updatable". The emulator must refuse what Stripe refuses,
    /// or the library's switch of a plan beside an add-on passes here and fails in production.
    /// </summary>
    [Fact]
    public async Task Create_RefusesASwitchConfirmationOfASubscriptionWithSeveralItems()
    {
        var subscriptionId = await SubscribeAsync("&line_items[1][price]=" + TestPlans.TeamMonthPrice + "&line_items[1][quantity]=1");
        var subscription = await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId);
        subscription["items"]!["data"]!.AsArray().Should().HaveCount(2);
        var proItem = (string)subscription["items"]!["data"]![0]!["id"]!;

        var answer = await Stripe.PostAsync("/v1/billing_portal/sessions",
            $"customer={(string)subscription["customer"]!}&flow_data[type]=subscription_update_confirm"
            + $"&flow_data[subscription_update_confirm][subscription]={subscriptionId}"
            + $"&flow_data[subscription_update_confirm][items][0][id]={proItem}&flow_data[subscription_update_confirm][items][0][price]={TestPlans.ProYearPrice}");

        answer.Status.Should().Be(HttpStatusCode.BadRequest);
    }

    /// <summary>
    /// At 2026-10-28.endive a subscription made by Checkout is in flexible billing mode (Checkout's
    /// <c>subscription_data[billing_mode][type]</c>: "If no value is passed, the default is flexible"), and the portal
    /// records a cancellation at period end as <c>cancel_at</c> = the period end with <c>cancel_at_period_end</c> false
    /// (Stripe's "Compare classic and flexible billing mode", scheduled subscription cancellation).
    /// </summary>
    [Fact]
    public async Task CancelInThePortal_RecordsItAsStripeDoesForACheckoutSubscription_AndEndsAtThePeriodEnd()
    {
        var (subscriptionId, customerId, _) = await SubscribedAsync();
        var before = await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId);
        var periodEnd = (long)before["items"]!["data"]![0]!["current_period_end"]!;
        var portal = await Stripe.PostOkAsync("/v1/billing_portal/sessions", $"customer={customerId}&return_url=https%3A%2F%2Fshop.example%2Faccount");

        using var cancel = await PostFormAsync(Stripe.Client, (string)portal["url"]!, ("action", "cancel"), ("subscription", subscriptionId));
        var canceling = LastEvent("customer.subscription.updated").ToJsonObject()["data"]!["object"]!;

        ((string)before["billing_mode"]!["type"]!).Should().Be("flexible");
        ((bool)canceling["cancel_at_period_end"]!).Should().BeFalse();
        ((long)canceling["cancel_at"]!).Should().Be(periodEnd);
        await Emulator.AdvanceClockAsync(TimeSpan.FromDays(32));
        var ended = await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId);
        ((string)ended["status"]!).Should().Be("canceled");
        LastEvent("customer.subscription.deleted").Should().NotBeNull();
    }
}
