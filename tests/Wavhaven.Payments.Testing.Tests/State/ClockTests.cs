using System.Net;
using Wavhaven.Payments.Testing.Tests.Support;

namespace Wavhaven.Payments.Testing.Tests.State;

public sealed class ClockTests : EmulatorTest
{
    protected override void Configure(StripeEmulatorOptions options) =>
        options.StartTime = new DateTimeOffset(2027, 1, 31, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task StartTime_SetsTheClock()
    {
        Emulator.Now.Should().BeCloseTo(new DateTimeOffset(2027, 1, 31, 12, 0, 0, TimeSpan.Zero), TimeSpan.FromSeconds(30));
        var customer = await Stripe.PostOkAsync("/v1/customers", "email=a%40example.com");
        ((long)customer["created"]!).Should().BeCloseTo(new DateTimeOffset(2027, 1, 31, 12, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), 30);
    }

    [Fact]
    public async Task AdvancePastPeriodEnd_RenewsWithAPaidCycleInvoice()
    {
        var subscriptionId = await SubscribeAsync();
        var first = await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId);
        var firstEnd = (long)first["items"]!["data"]![0]!["current_period_end"]!;
        var before = Emulator.Events.Count;

        await Emulator.AdvanceClockAsync(TimeSpan.FromDays(32));

        EventTypesSince(before).Should().Equal("invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated");
        var invoice = LastEvent("invoice.paid").DataObject();
        ((string)invoice["billing_reason"]!).Should().Be("subscription_cycle");
        ((string)invoice["status"]!).Should().Be("paid");
        ((long)invoice["amount_paid"]!).Should().Be(1500);
        ((string)invoice["parent"]!["subscription_details"]!["subscription"]!).Should().Be(subscriptionId);
        var updated = LastEvent("customer.subscription.updated").ToJsonObject();
        var item = updated["data"]!["object"]!["items"]!["data"]![0]!;
        ((long)item["current_period_start"]!).Should().Be(firstEnd);
        DateTimeOffset.FromUnixTimeSeconds((long)item["current_period_end"]!).Should().Be(DateTimeOffset.FromUnixTimeSeconds((long)first["billing_cycle_anchor"]!).AddMonths(2), "a period ends on the anchor's day (the 31st), or the month's last day");
        ((long)updated["data"]!["previous_attributes"]!["items"]!["data"]![0]!["current_period_end"]!).Should().Be(firstEnd);
        ((long)updated["created"]!).Should().Be(firstEnd, "the renewal happens at the period's end, not at the end of the advance");
        var invoices = await Stripe.GetOkAsync("/v1/invoices?subscription=" + subscriptionId);
        invoices["data"]!.AsArray().Should().HaveCount(2);
    }

    [Fact]
    public async Task AdvanceOverSeveralPeriods_RenewsOncePerPeriod()
    {
        var subscriptionId = await SubscribeAsync();

        await Emulator.AdvanceClockAsync(TimeSpan.FromDays(95));

        Emulator.Events.Count(e => e.Type == "invoice.paid").Should().Be(1 + 3);
        (await Stripe.GetOkAsync("/v1/invoices?subscription=" + subscriptionId + "&limit=100"))["data"]!.AsArray().Should().HaveCount(4);
    }

    [Fact]
    public async Task FailNextRenewal_MakesTheRenewalFailAndTheSubscriptionPastDue()
    {
        var subscriptionId = await SubscribeAsync();
        Emulator.FailNextRenewal(subscriptionId);
        var before = Emulator.Events.Count;

        await Emulator.AdvanceClockAsync(TimeSpan.FromDays(32));

        EventTypesSince(before).Should().Equal("invoice.created", "invoice.finalized", "invoice.payment_failed", "customer.subscription.updated");
        var failed = LastEvent("invoice.payment_failed").DataObject();
        ((string)failed["status"]!).Should().Be("open");
        ((long)failed["attempt_count"]!).Should().Be(1);
        var updated = LastEvent("customer.subscription.updated").ToJsonObject()["data"]!;
        ((string)updated["object"]!["status"]!).Should().Be("past_due");
        ((string)updated["previous_attributes"]!["status"]!).Should().Be("active");

        await Emulator.AdvanceClockAsync(TimeSpan.FromDays(31));

        ((string)(await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId))["status"]!).Should().Be("active", "only the next renewal was set to fail");
    }

    [Fact]
    public async Task CancelAtPeriodEnd_EndsTheSubscriptionWhenThePeriodEnds()
    {
        var subscriptionId = await SubscribeAsync();
        var updated = await Stripe.PostOkAsync("/v1/subscriptions/" + subscriptionId, "cancel_at_period_end=true");
        var periodEnd = (long)updated["items"]!["data"]![0]!["current_period_end"]!;
        var before = Emulator.Events.Count;

        await Emulator.AdvanceClockAsync(TimeSpan.FromDays(10));
        var stillActive = await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId);
        await Emulator.AdvanceClockAsync(TimeSpan.FromDays(30));

        ((long)updated["cancel_at"]!).Should().Be(periodEnd);
        ((string)stillActive["status"]!).Should().Be("active");
        EventTypesSince(before).Should().Equal("customer.subscription.deleted");
        var deleted = LastEvent("customer.subscription.deleted").DataObject();
        ((string)deleted["status"]!).Should().Be("canceled");
        ((long)deleted["ended_at"]!).Should().Be(periodEnd);
        (await Stripe.GetOkAsync("/v1/subscriptions?status=active"))["data"]!.AsArray().Should().BeEmpty();
    }

    [Fact]
    public async Task CancelAtPeriodEnd_ThenAnIntervalSwitch_EndsAndSaysItEndsAtTheNewPeriodEnd()
    {
        var subscriptionId = await SubscribeAsync();
        var canceling = await Stripe.PostOkAsync("/v1/subscriptions/" + subscriptionId, "cancel_at_period_end=true");
        var item = (string)canceling["items"]!["data"]![0]!["id"]!;

        var switched = await Stripe.PostOkAsync("/v1/subscriptions/" + subscriptionId, $"items[0][id]={item}&items[0][price]={TestPlans.ProYearPrice}");
        await Emulator.AdvanceClockAsync(TimeSpan.FromDays(400));

        var yearEnd = (long)switched["items"]!["data"]![0]!["current_period_end"]!;
        yearEnd.Should().BeGreaterThan((long)canceling["cancel_at"]!, "the switch started a yearly period");
        ((long)switched["cancel_at"]!).Should().Be(yearEnd, "cancel_at names the day the subscription ends");
        ((long)LastEvent("customer.subscription.deleted").DataObject()["ended_at"]!).Should().Be(yearEnd);
    }

    [Fact]
    public async Task TrialEnd_AnnouncesThenBillsTheFirstFullPeriod()
    {
        var subscriptionId = await SubscribeAsync("&subscription_data[trial_period_days]=7");
        var before = Emulator.Events.Count;

        await Emulator.AdvanceClockAsync(TimeSpan.FromDays(8));

        EventTypesSince(before).Should().Equal(
            "customer.subscription.trial_will_end", "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated");
        var updated = LastEvent("customer.subscription.updated").ToJsonObject()["data"]!;
        ((string)updated["object"]!["status"]!).Should().Be("active");
        ((string)updated["previous_attributes"]!["status"]!).Should().Be("trialing");
        ((long)LastEvent("invoice.paid").DataObject()["amount_paid"]!).Should().Be(1500);
        subscriptionId.Should().StartWith("sub_");
    }

    [Fact]
    public async Task AdvanceClock_RefusesGoingBack()
    {
        var act = () => Emulator.AdvanceClockAsync(TimeSpan.FromSeconds(-1));

        await act.Should().ThrowAsync<ArgumentOutOfRangeException>();
    }
}

public sealed class SubscriptionApiTests : EmulatorTest
{
    [Fact]
    public async Task List_FiltersByCustomerAndHidesCanceledByDefault()
    {
        var subscriptionId = await SubscribeAsync();
        var customerId = (string)(await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId))["customer"]!;

        var mine = await Stripe.GetOkAsync("/v1/subscriptions?customer=" + customerId + "&limit=10");
        var theirs = await Stripe.GetOkAsync("/v1/subscriptions?customer=cus_other");
        await Stripe.DeleteAsync("/v1/subscriptions/" + subscriptionId);
        var afterCancel = await Stripe.GetOkAsync("/v1/subscriptions?customer=" + customerId);
        var all = await Stripe.GetOkAsync("/v1/subscriptions?customer=" + customerId + "&status=all");

        mine["data"]!.AsArray().Should().ContainSingle();
        theirs["data"]!.AsArray().Should().BeEmpty();
        afterCancel["data"]!.AsArray().Should().BeEmpty();
        all["data"]!.AsArray().Should().ContainSingle();
    }

    [Fact]
    public async Task Delete_CancelsNowAndEmitsDeleted()
    {
        var subscriptionId = await SubscribeAsync();

        var canceled = await Stripe.DeleteAsync("/v1/subscriptions/" + subscriptionId);

        canceled.Status.Should().Be(HttpStatusCode.OK);
        ((string)canceled.Body["status"]!).Should().Be("canceled");
        canceled.Body["canceled_at"].Should().NotBeNull();
        EventTypes().Last().Should().Be("customer.subscription.deleted");
    }

    [Fact]
    public async Task SwitchPrice_WithAlwaysInvoice_InvoicesTheProratedDifference()
    {
        var subscriptionId = await SubscribeAsync();
        var itemId = (string)(await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId))["items"]!["data"]![0]!["id"]!;
        var before = Emulator.Events.Count;

        var updated = await Stripe.PostOkAsync("/v1/subscriptions/" + subscriptionId,
            $"items[0][id]={itemId}&items[0][price]={TestPlans.TeamMonthPrice}&proration_behavior=always_invoice&metadata[plan]=team");

        EventTypesSince(before).Should().Equal("customer.subscription.updated", "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded");
        ((string)updated["metadata"]!["plan"]!).Should().Be("team");
        var invoice = LastEvent("invoice.paid").DataObject();
        ((string)invoice["billing_reason"]!).Should().Be("subscription_update");
        ((long)invoice["amount_paid"]!).Should().BeInRange(2990, 3000, "the difference (45.00 − 15.00) for almost the whole period");
        var previous = LastEvent("customer.subscription.updated").ToJsonObject()["data"]!["previous_attributes"]!;
        ((string)previous["items"]!["data"]![0]!["price"]!["id"]!).Should().Be(TestPlans.ProMonthPrice);
    }

    [Fact]
    public async Task SwitchPrice_WithCreateProrations_InvoicesNothingNow()
    {
        var subscriptionId = await SubscribeAsync();
        var itemId = (string)(await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId))["items"]!["data"]![0]!["id"]!;
        var before = Emulator.Events.Count;

        await Stripe.PostOkAsync("/v1/subscriptions/" + subscriptionId, $"items[0][id]={itemId}&items[0][price]={TestPlans.TeamMonthPrice}");

        EventTypesSince(before).Should().Equal("customer.subscription.updated");
    }

    [Fact]
    public async Task SwitchToAnotherInterval_RestartsThePeriodAndInvoicesNow()
    {
        var subscriptionId = await SubscribeAsync();
        var itemId = (string)(await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId))["items"]!["data"]![0]!["id"]!;

        var updated = await Stripe.PostOkAsync("/v1/subscriptions/" + subscriptionId, $"items[0][id]={itemId}&items[0][price]={TestPlans.ProYearPrice}");

        var item = updated["items"]!["data"]![0]!;
        DateTimeOffset.FromUnixTimeSeconds((long)item["current_period_end"]!)
            .Should().Be(DateTimeOffset.FromUnixTimeSeconds((long)item["current_period_start"]!).AddYears(1));
        ((long)LastEvent("invoice.paid").DataObject()["amount_paid"]!).Should().BeInRange(13500, 13510, "a year (150.00) less the unused month (15.00)");
    }

    [Fact]
    public async Task Update_UnknownItemOrOneTimePrice_Is400()
    {
        var subscriptionId = await SubscribeAsync();
        var itemId = (string)(await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId))["items"]!["data"]![0]!["id"]!;

        var unknownItem = await Stripe.PostAsync("/v1/subscriptions/" + subscriptionId, "items[0][id]=si_nope&items[0][price]=" + TestPlans.TeamMonthPrice);
        var oneTime = await Stripe.PostAsync("/v1/subscriptions/" + subscriptionId, $"items[0][id]={itemId}&items[0][price]={TestPlans.LicensePrice}");
        var unsupported = await Stripe.PostAsync("/v1/subscriptions/" + subscriptionId, "trial_end=now");

        unknownItem.Error["param"]!.GetValue<string>().Should().Be("items[0][id]");
        oneTime.Error["param"]!.GetValue<string>().Should().Be("items[0][price]");
        unsupported.Status.Should().Be(HttpStatusCode.BadRequest);
        unsupported.Error["message"]!.GetValue<string>().Should().Contain("does not implement");
        ((string)(await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId))["items"]!["data"]![0]!["price"]!["id"]!)
            .Should().Be(TestPlans.ProMonthPrice, "a refused update changes nothing");
    }
}
