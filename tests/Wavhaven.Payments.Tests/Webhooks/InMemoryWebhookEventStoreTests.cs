using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Tests.Webhooks;

public class InMemoryWebhookEventStoreTests
{
    private static InMemoryWebhookEventStore Create(FakeTimeProvider time, int capacity = 200_000) =>
        new(Options.Create(new InMemoryWebhookEventStoreOptions { Capacity = capacity }), time, NullLogger<InMemoryWebhookEventStore>.Instance);

    /// <summary>Waits for the pruner, including the passes a prune starts as it ends.</summary>
    private static async Task PrunedAsync(InMemoryWebhookEventStore sut)
    {
        Task last;
        do
        {
            last = sut.LastPrune;
            await last;
        }
        while (!ReferenceEquals(last, sut.LastPrune));
    }

    private static async Task ProcessAsync(InMemoryWebhookEventStore sut, string id)
    {
        (await sut.TryClaimAsync(id, "checkout.session.completed", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
        await sut.MarkProcessedAsync(id);
    }

    [Fact]
    public async Task PastItsCapacity_ForgetsTheOldestProcessedIds_DownToFifteenSixteenths()
    {
        var time = new FakeTimeProvider();
        var sut = Create(time, capacity: 160);
        for (var i = 0; i < 160; i++)
        {
            await ProcessAsync(sut, "evt_" + i);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        await ProcessAsync(sut, "evt_160");
        await sut.LastPrune;

        sut.Count.Should().Be(150);
        (await sut.TryClaimAsync("evt_0", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed, "the oldest was forgotten");
        (await sut.TryClaimAsync("evt_159", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.AlreadyProcessed);
    }

    [Fact]
    public async Task ExpiredIds_AreSweptOnALaterClaim_AtMostOnceAMinute()
    {
        var time = new FakeTimeProvider();
        var sut = Create(time);
        await ProcessAsync(sut, "evt_old");
        time.Advance(TimeSpan.FromHours(73));

        for (var i = 0; i < 2048; i++)
        {
            await ProcessAsync(sut, "evt_" + i);
            await sut.LastPrune;
        }

        sut.Count.Should().Be(2048, "the sweep after the 1024th claim forgot the expired id");
        (await sut.TryClaimAsync("evt_old", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
    }

    /// <summary>
    /// A claim in progress is a handler still running in this process (every holder marks its claim when its handlers end):
    /// the sweep that forgets expired ids must not forget it, or the next delivery would run the handler again beside it.
    /// </summary>
    [Fact]
    public async Task AClaimInProgress_IsNotForgottenWithTheExpiredIds_HoweverOld()
    {
        var time = new FakeTimeProvider();
        var sut = Create(time);
        await sut.TryClaimAsync("evt_long_running", "t", ReadOnlyMemory<byte>.Empty);
        await ProcessAsync(sut, "evt_done");
        time.Advance(TimeSpan.FromHours(73));

        for (var i = 0; i < 1024; i++)
        {
            await ProcessAsync(sut, "evt_" + i);
        }

        await PrunedAsync(sut);
        sut.Count.Should().Be(1025, "the sweep after the 1024th claim forgot the expired processed id, and kept the claim in progress");
        (await sut.TryClaimAsync("evt_long_running", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.InProgress);
        (await sut.TryClaimAsync("evt_done", "t", ReadOnlyMemory<byte>.Empty)).Should().Be(new WebhookClaim(WebhookClaimStatus.Claimed, 1), "it expired, and is new again");
    }

    [Fact]
    public async Task PastItsCapacity_KeepsIdsInProgressOrFailed_AndForgetsTheProcessedOnesBehindThem()
    {
        var time = new FakeTimeProvider();
        var sut = Create(time, capacity: 32);
        await sut.TryClaimAsync("evt_running", "t", ReadOnlyMemory<byte>.Empty);
        await sut.TryClaimAsync("evt_failed", "t", ReadOnlyMemory<byte>.Empty);
        await sut.MarkFailedAsync("evt_failed", "boom");
        for (var i = 0; i < 31; i++)
        {
            await ProcessAsync(sut, "evt_" + i);
            await sut.LastPrune;
        }

        sut.Count.Should().Be(30, "33 ids were over the capacity of 32, and processed ones went down to 30");
        (await sut.TryClaimAsync("evt_running", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.InProgress);
        (await sut.TryClaimAsync("evt_failed", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
        (await sut.TryClaimAsync("evt_30", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.AlreadyProcessed);
    }

    /// <summary>
    /// The success page fulfilled a purchase while its webhook was answered 409 and failed. If the capacity then forgot
    /// the purchase (processed and oldest) but kept the failed event, Stripe's retry would fulfil the purchase again.
    /// Purchases are kept until they expire, and do not count toward the capacity.
    /// </summary>
    [Fact]
    public async Task PastItsCapacity_KeepsProcessedPurchases_UntilTheyExpire()
    {
        var time = new FakeTimeProvider();
        var sut = Create(time, capacity: 16);
        var purchase = FulfillmentRunner.PurchaseId("cs_test_1");
        (await sut.TryClaimAsync(purchase, FulfillmentRunner.PurchaseType, ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
        await sut.MarkProcessedAsync(purchase);
        await sut.TryClaimAsync("evt_waiting_for_retry", "checkout.session.completed", ReadOnlyMemory<byte>.Empty);
        await sut.MarkFailedAsync("evt_waiting_for_retry", "the purchase was in progress");
        for (var i = 0; i < 40; i++)
        {
            await ProcessAsync(sut, "evt_" + i);
            await PrunedAsync(sut);
        }

        sut.Count.Should().BeLessThanOrEqualTo(16, "the store is held to its capacity");
        (await sut.TryClaimAsync("evt_0", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed, "old processed events are forgotten as before");
        (await sut.TryClaimAsync("evt_waiting_for_retry", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
        (await sut.TryClaimAsync(purchase, FulfillmentRunner.PurchaseType, ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.AlreadyProcessed, "the retried event must find its purchase fulfilled");

        time.Advance(new InMemoryWebhookEventStoreOptions().Retention + TimeSpan.FromMinutes(2));
        for (var i = 0; i < 1024; i++) // a sweep for expired ids comes every 1,024 new ids
        {
            await ProcessAsync(sut, "evt_after_retention_" + i);
            await PrunedAsync(sut);
        }

        (await sut.TryClaimAsync(purchase, FulfillmentRunner.PurchaseType, ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed, "past the retention a purchase goes, as documented");
    }

    [Fact]
    public async Task PastItsCapacity_PurchasesGoOnlyWhileTheyHoldMoreThanHalfOfIt_OldestFirst()
    {
        var time = new FakeTimeProvider();
        var sut = Create(time, capacity: 16);
        for (var i = 0; i < 40; i++)
        {
            var purchase = FulfillmentRunner.PurchaseId("cs_test_" + i);
            await sut.TryClaimAsync(purchase, FulfillmentRunner.PurchaseType, ReadOnlyMemory<byte>.Empty);
            await sut.MarkProcessedAsync(purchase);
            await ProcessAsync(sut, "evt_" + i);
            await PrunedAsync(sut);
        }

        sut.Count.Should().BeLessThanOrEqualTo(16, "purchases count toward the capacity");
        (await sut.TryClaimAsync(FulfillmentRunner.PurchaseId("cs_test_0"), FulfillmentRunner.PurchaseType, ReadOnlyMemory<byte>.Empty)).Status
            .Should().Be(WebhookClaimStatus.Claimed, "the oldest purchases go once purchases hold more than half the capacity");
        (await sut.TryClaimAsync(FulfillmentRunner.PurchaseId("cs_test_36"), FulfillmentRunner.PurchaseType, ReadOnlyMemory<byte>.Empty)).Status
            .Should().Be(WebhookClaimStatus.AlreadyProcessed, "half the capacity of the newest purchases is kept");
    }

    /// <summary>
    /// The store's claims used to lapse after a lease of five minutes, and nothing renewed them: a handler slower than that
    /// was run a second time, beside the first, by the next delivery. A claim now holds until it is marked.
    /// </summary>
    [Fact]
    public async Task AClaim_BlocksOthersUntilItIsMarked_HoweverLongItsHandlerRuns_ThenTheNextAttemptGetsIt()
    {
        var time = new FakeTimeProvider();
        var sut = Create(time);

        (await sut.TryClaimAsync("evt_1", "t", ReadOnlyMemory<byte>.Empty)).Should().Be(new WebhookClaim(WebhookClaimStatus.Claimed, 1));
        time.Advance(TimeSpan.FromMinutes(6));
        var afterSixMinutes = await sut.TryClaimAsync("evt_1", "t", ReadOnlyMemory<byte>.Empty);
        time.Advance(TimeSpan.FromHours(71));
        var afterThreeDays = await sut.TryClaimAsync("evt_1", "t", ReadOnlyMemory<byte>.Empty);
        await sut.MarkFailedAsync("evt_1", "the handler threw");
        var afterTheFailure = await sut.TryClaimAsync("evt_1", "t", ReadOnlyMemory<byte>.Empty);

        afterSixMinutes.Status.Should().Be(WebhookClaimStatus.InProgress, "the first claim's handler still runs");
        afterThreeDays.Status.Should().Be(WebhookClaimStatus.InProgress);
        afterTheFailure.Should().Be(new WebhookClaim(WebhookClaimStatus.Claimed, 2));
    }

    [Fact]
    public async Task AFailureMarkedAfterTheIdWasProcessed_DoesNotReopenIt()
    {
        var sut = Create(new FakeTimeProvider());
        (await sut.TryClaimAsync("checkout.session:cs_1", "checkout.fulfillment", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
        await sut.MarkProcessedAsync("checkout.session:cs_1");

        await sut.MarkFailedAsync("checkout.session:cs_1", "a late failure");

        (await sut.TryClaimAsync("checkout.session:cs_1", "checkout.fulfillment", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.AlreadyProcessed);
    }

    [Fact]
    public async Task AFailedId_IsClaimedAgain_WithTheStepsThatSucceeded_AndOnceProcessedIsDoneForGood()
    {
        var sut = Create(new FakeTimeProvider());
        await sut.TryClaimAsync("evt_1", "t", ReadOnlyMemory<byte>.Empty);
        await sut.MarkStepCompletedAsync("evt_1", "fulfillment");
        await sut.MarkFailedAsync("evt_1", "the second step threw");

        var retry = await sut.TryClaimAsync("evt_1", "t", ReadOnlyMemory<byte>.Empty);
        await sut.MarkProcessedAsync("evt_1");

        retry.Status.Should().Be(WebhookClaimStatus.Claimed);
        retry.Attempt.Should().Be(2);
        retry.IsStepCompleted("fulfillment").Should().BeTrue();
        retry.IsStepCompleted("event:Other").Should().BeFalse();
        (await sut.TryClaimAsync("evt_1", "t", ReadOnlyMemory<byte>.Empty)).Should().Be(new WebhookClaim(WebhookClaimStatus.AlreadyProcessed, 2));
    }

    [Fact]
    public async Task ManyThreadsClaimingTheSameIds_GetOneClaimPerId()
    {
        var sut = Create(new FakeTimeProvider());
        var ids = Enumerable.Range(0, 2_000).Select(i => "evt_" + i).ToArray();
        using var start = new Barrier(4);

        var claimed = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                return ids.Count(id => sut.TryClaimAsync(id, "t", ReadOnlyMemory<byte>.Empty).Result.Status == WebhookClaimStatus.Claimed);
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)));

        claimed.Sum().Should().Be(ids.Length);
        sut.Count.Should().Be(ids.Length);
    }

    [Fact]
    public async Task AnIdForgottenAndClaimedAnew_IsKeptWhileItsNewClaimRuns()
    {
        var time = new FakeTimeProvider();
        var sut = Create(time, capacity: 16);
        for (var i = 0; i < 17; i++)
        {
            await ProcessAsync(sut, "evt_" + i);
            await sut.LastPrune;
        }

        (await sut.TryClaimAsync("evt_0", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed, "evt_0 was forgotten");
        for (var i = 17; i < 40; i++)
        {
            await ProcessAsync(sut, "evt_" + i);
            await sut.LastPrune;
        }

        (await sut.TryClaimAsync("evt_0", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.InProgress, "its new claim is still running");
    }

    [Fact]
    public async Task IdsUpToStripesLongest_AndNonAsciiIds_AreToldApartByEveryCharacter()
    {
        var sut = Create(new FakeTimeProvider());
        var longest = "cs_live_" + new string('a', 246) + "b";
        string[] ids =
        [
            "checkout.session:" + longest,
            "checkout.session:" + longest[..^1] + "c",
            longest,
            "evt_caf\u00e9",
            "evt_cafe\u0301",
            "evt_\U0001F600",
            "evt_\U0001F601",
            new string('z', InMemoryWebhookEventStore.MaxIdLength),
        ];

        foreach (var id in ids)
        {
            await ProcessAsync(sut, id);
        }

        sut.Count.Should().Be(ids.Length);
        foreach (var id in ids)
        {
            (await sut.TryClaimAsync(id, "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.AlreadyProcessed, id);
        }

        (await sut.TryClaimAsync("checkout.session:" + longest[..^1], "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed, "a prefix is another id");
    }

    [Theory]
    [InlineData("too long")]
    [InlineData("lone surrogate")]
    public async Task AnIdItCannotKeep_IsRefusedByName_AndChangesNothing(string problem)
    {
        var sut = Create(new FakeTimeProvider());
        await ProcessAsync(sut, "evt_kept");
        var id = problem == "too long" ? new string('e', InMemoryWebhookEventStore.MaxIdLength + 1) : "evt_\ud800x";

        var claim = () => sut.TryClaimAsync(id, "t", ReadOnlyMemory<byte>.Empty).AsTask();

        (await claim.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain(problem == "too long" ? "1025 characters" : "lone surrogate");
        sut.Count.Should().Be(1);
        (await sut.TryClaimAsync("evt_after_the_refusal", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed, "the refusal left nothing half-written");
        (await sut.TryClaimAsync("evt_kept", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.AlreadyProcessed);
    }

    [Fact]
    public async Task CyclingIdsPastItsCapacity_ReusesItsPages_AndKeepsTheIdsThatMustStay()
    {
        var time = new FakeTimeProvider();
        var sut = Create(time, capacity: 2_000);
        await sut.TryClaimAsync("evt_running", "t", ReadOnlyMemory<byte>.Empty);
        await sut.TryClaimAsync("evt_failed", "t", ReadOnlyMemory<byte>.Empty);
        await sut.MarkStepCompletedAsync("evt_failed", "fulfillment");
        await sut.MarkFailedAsync("evt_failed", "the second step threw");
        var pagesWhenFull = 0;

        // 100,000 purchase-sized ids through a store that keeps 2,000: every page is written over many times, and the two
        // ids that must stay are moved forward past each prune.
        for (var i = 0; i < 100_000; i++)
        {
            await ProcessAsync(sut, $"checkout.session:cs_test_a1{i:D56}");
            await sut.LastPrune;
            if (i == 2_000)
            {
                pagesWhenFull = sut.PageCount;
            }
        }

        sut.PageCount.Should().BeLessThanOrEqualTo(pagesWhenFull + 64, "pages are reused once their ids are forgotten, not added");
        (await sut.TryClaimAsync("evt_running", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.InProgress);
        var retry = await sut.TryClaimAsync("evt_failed", "t", ReadOnlyMemory<byte>.Empty);
        retry.Status.Should().Be(WebhookClaimStatus.Claimed);
        retry.IsStepCompleted("fulfillment").Should().BeTrue();
        (await sut.TryClaimAsync($"checkout.session:cs_test_a1{99_999:D56}", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.AlreadyProcessed);
        (await sut.TryClaimAsync($"checkout.session:cs_test_a1{0:D56}", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed, "the oldest were forgotten");
    }

    [Fact]
    public async Task AfterThousandsOfIdsForgottenFromItsIndex_EveryKeptIdIsFound_AndEveryForgottenOneIsNew()
    {
        var time = new FakeTimeProvider();
        var sut = Create(time, capacity: 1_000);
        const int total = 6_000;

        // The ring wraps around and the index loses thousands of slots from the middle of its probe runs: a slot moved
        // back wrongly (or not at all) would hide a kept id behind a gap, or leave a forgotten one findable.
        for (var i = 0; i < total; i++)
        {
            await ProcessAsync(sut, $"evt_{i:D6}");
            await PrunedAsync(sut);
        }

        var kept = sut.Count;
        kept.Should().BeInRange(1_000 - (1_000 / 16), 1_000);
        for (var i = total - kept; i < total; i++)
        {
            (await sut.TryClaimAsync($"evt_{i:D6}", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.AlreadyProcessed, "evt_{0:D6} is among the newest {1}", i, kept);
        }

        for (var i = 0; i < total - kept; i++)
        {
            (await sut.TryClaimAsync($"evt_{i:D6}", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed, "evt_{0:D6} was forgotten", i);
        }
    }

    [Fact]
    public async Task IdsInProgressPastItsCapacity_AreMovedAroundTheRingAsItGrows_AndAllStayFound()
    {
        var sut = Create(new FakeTimeProvider(), capacity: 64);

        // None of these can be forgotten, so each prune moves them all to the back: the oldest is never at the ring's
        // first place when the ring runs full and doubles, so every index slot must follow its record to a new place.
        for (var i = 0; i < 1_000; i++)
        {
            (await sut.TryClaimAsync($"evt_{i:D4}", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
            await PrunedAsync(sut);
        }

        sut.Count.Should().Be(1_000);
        for (var i = 0; i < 1_000; i++)
        {
            (await sut.TryClaimAsync($"evt_{i:D4}", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.InProgress, "evt_{0:D4} is still running", i);
        }
    }

    [Fact]
    public async Task MarksMadeWithTheClaimsOwnStrings_ReachTheirRecords_AfterThePrunerMovedThemAndTheRingGrew()
    {
        var sut = Create(new FakeTimeProvider(), capacity: 64);

        // The store remembers its last claims by their string, to go straight to the record when that string marks it.
        // Every prune here moves each running id to the back, and the ring doubles once: each remembered place ends up
        // holding another record, or a stale copy of this one outside the ring's live part.
        var ids = Enumerable.Range(0, 300).Select(i => new string([.. $"evt_{i:D4}"])).ToArray();
        foreach (var id in ids)
        {
            (await sut.TryClaimAsync(id, "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
            await PrunedAsync(sut);
        }

        foreach (var id in ids.Reverse())
        {
            await sut.MarkProcessedAsync(id);
        }

        for (var i = 0; i < ids.Length; i++)
        {
            (await sut.TryClaimAsync($"evt_{i:D4}", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.AlreadyProcessed, "evt_{0:D4} was marked processed", i);
        }
    }

    [Fact]
    public async Task MarksMadeWithTheClaimsOwnStrings_ReachTheirRecords_WhenTheRingDoubledAfterTheClaims()
    {
        var time = new FakeTimeProvider();
        var sut = Create(time);

        // 100 ids that expire, then 924 more: the sweep after the 1024th new id forgets the first 100, so the ring (1,024
        // places, full at that claim) has its oldest record at place 100.
        for (var i = 0; i < 100; i++)
        {
            await ProcessAsync(sut, $"evt_old_{i:D3}");
        }

        time.Advance(TimeSpan.FromHours(73));
        for (var i = 0; i < 924; i++)
        {
            await ProcessAsync(sut, $"evt_kept_{i:D3}");
        }

        await PrunedAsync(sut);
        sut.Count.Should().Be(924);

        // 100 running ids fill the ring again, and the 101st doubles it: the head moves to place 0, so the places the
        // store remembered for the claims before it now hold other records.
        var running = Enumerable.Range(0, 101).Select(i => new string([.. $"evt_running_{i:D3}"])).ToArray();
        foreach (var id in running)
        {
            (await sut.TryClaimAsync(id, "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
        }

        foreach (var id in running[^8..])
        {
            await sut.MarkFailedAsync(id, "a step threw");
        }

        for (var i = 0; i < running.Length; i++)
        {
            (await sut.TryClaimAsync($"evt_running_{i:D3}", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(
                i >= running.Length - 8 ? WebhookClaimStatus.Claimed : WebhookClaimStatus.InProgress,
                "evt_running_{0:D3} was {1}", i, i >= running.Length - 8 ? "marked failed" : "left running");
        }

        (await sut.TryClaimAsync("evt_kept_000", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.AlreadyProcessed, "no mark reached another record");
        (await sut.TryClaimAsync("evt_kept_923", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.AlreadyProcessed);
    }

    [Fact]
    public async Task OnTheSystemClock_AProcessedIdExpiresInRealTime_AndAClaimInProgressDoesNot()
    {
        var sut = new InMemoryWebhookEventStore(
            Options.Create(new InMemoryWebhookEventStoreOptions { Retention = TimeSpan.FromSeconds(1) }), TimeProvider.System, NullLogger<InMemoryWebhookEventStore>.Instance);
        await ProcessAsync(sut, "evt_done");
        await sut.TryClaimAsync("evt_running", "t", ReadOnlyMemory<byte>.Empty);
        await Task.Delay(TimeSpan.FromSeconds(1.3));

        // The 1024th new id sweeps (the first sweep is due at once).
        for (var i = 0; i < 1022; i++)
        {
            await ProcessAsync(sut, "evt_" + i);
        }

        await PrunedAsync(sut);
        (await sut.TryClaimAsync("evt_done", "t", ReadOnlyMemory<byte>.Empty)).Should().Be(new WebhookClaim(WebhookClaimStatus.Claimed, 1), "it expired a second after it was processed");
        (await sut.TryClaimAsync("evt_running", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.InProgress);
    }

    [Fact]
    public async Task ClaimsOnFourThreads_WhileThePrunerForgetsAndMovesIds_NeverLoseARecentOrRunningId()
    {
        var sut = Create(new FakeTimeProvider(), capacity: 1_000);
        await sut.TryClaimAsync("evt_running", "t", ReadOnlyMemory<byte>.Empty);
        using var start = new Barrier(4);

        // Each thread processes its own 20,000 ids while the pruner (started by the claims past capacity) forgets old ids
        // and copies the running one forward, on the same pages and ring: a corrupted key would answer a new id as known.
        var wrong = await Task.WhenAll(Enumerable.Range(0, 4).Select(thread => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                var errors = 0;
                for (var i = 0; i < 20_000; i++)
                {
                    var id = $"checkout.session:cs_test_t{thread}_{i:D8}";
                    errors += sut.TryClaimAsync(id, "t", ReadOnlyMemory<byte>.Empty).Result.Status == WebhookClaimStatus.Claimed ? 0 : 1;
                    sut.MarkProcessedAsync(id).AsTask().Wait();
                }

                return errors;
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)));
        await PrunedAsync(sut);

        wrong.Sum().Should().Be(0, "every new id is claimed once");
        (await sut.TryClaimAsync("evt_running", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.InProgress);
        sut.Count.Should().BeLessThanOrEqualTo(1_000, "the pruner goes on until the claims that outran it are forgotten too");
    }
}
