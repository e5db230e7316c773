using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Portal;
using Wavhaven.Payments.Subscriptions;
using Wavhaven.Payments.Testing;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;
using Xunit.Abstractions;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>
/// The monthly renewal night: subscriptions made through real checkouts against the emulator, the README's subscription
/// handler on EF Core and PostgreSQL, two instances of the app on one database (one inline, one queued), the emulator
/// delivering every event to both, and Stripe's parallel, out-of-order, retried deliveries simulated on top; then the clock
/// moves two months with some renewals failing, a portal cancellation and a plan switch in the middle.
/// </summary>
public sealed class RenewalNightTests(ITestOutputHelper output)
{
    private const int Users = 40;

    public sealed class RenewalDbContext(DbContextOptions<RenewalDbContext> options) : DbContext(options)
    {
        public DbSet<Account> Accounts => Set<Account>();

        public DbSet<HandledEvent> HandledEvents => Set<HandledEvent>();

        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.Entity<Account>().HasKey(a => a.UserId);
            modelBuilder.AddStripePayments();
        }
    }

    /// <summary>The README's <c>Account</c>, with the status the brief asks for.</summary>
    public sealed class Account
    {
        public required string UserId { get; set; }

        public string? SubscriptionId { get; set; }

        public DateTimeOffset? SubscriptionCreated { get; set; }

        public string? Plan { get; set; }

        public PriceInterval? PlanInterval { get; set; }

        public DateTimeOffset? RenewsAt { get; set; }

        public string? Status { get; set; }
    }

    /// <summary>One row per committed run of the subscription handler: a second run of one event is a second row.</summary>
    public sealed class HandledEvent
    {
        public int Id { get; set; }

        public required string EventId { get; set; }
    }

    public sealed class Runs
    {
        public ConcurrentDictionary<string, int> ByEvent { get; } = new();
    }

    /// <summary>The README's <c>ProSubscriptionHandler</c>, line for line, plus the status and a committed-run row.</summary>
    public sealed class ProSubscriptionHandler(RenewalDbContext db, Runs runs) : ISubscriptionHandler
    {
        public async Task HandleAsync(SubscriptionChange change, CancellationToken cancellationToken)
        {
            runs.ByEvent.AddOrUpdate(change.Event.Id, 1, static (_, count) => count + 1);
            db.HandledEvents.Add(new HandledEvent { EventId = change.Event.Id });
            if (change.IsGuest || change.UserId is null
                || await db.Accounts.SingleOrDefaultAsync(a => a.UserId == change.UserId, cancellationToken) is not { } account)
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }

            if (account.SubscriptionId != change.SubscriptionId
                && !(change.IsActive && (account.Plan is null || change.Subscription.Created > account.SubscriptionCreated)))
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }

            account.SubscriptionId = change.SubscriptionId;
            account.SubscriptionCreated = change.Subscription.Created;
            account.Plan = change.IsActive ? change.Plan?.Id : null;
            account.PlanInterval = change.Price?.Interval;
            account.RenewsAt = change.CancelAtPeriodEnd ? null : change.CurrentPeriodEnd;
            account.Status = change.Status;
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>The Pro checkout's fulfillment: nothing to do, the subscription handler keeps the account.</summary>
    public sealed class ProCheckoutHandler : IFulfillmentHandler
    {
        public string Type => "pro";

        public Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [SkippableTheory]
    [InlineData(WebhookProcessingMode.Inline, WebhookProcessingMode.Inline)]
    [InlineData(WebhookProcessingMode.Queued, WebhookProcessingMode.Queued)]
    [InlineData(WebhookProcessingMode.Inline, WebhookProcessingMode.Queued)]
    public async Task TwoInstances_TwoMonthsOfRenewals_EveryAccountMatchesStripe_EveryEventOnce_Healthy(WebhookProcessingMode firstMode, WebhookProcessingMode secondMode)
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        var plans = new StripePaymentsOptions();
        TestServices.DefaultOptions(plans);
        await using var emulator = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = plans.Plans });
        var runs = new Runs();
        await using (var context = CreateContext(database))
        {
            // The test database holds the shared test context's tables: this app's model replaces them.
            await context.Database.ExecuteSqlRawAsync("DROP TABLE orders, wavhaven_webhook_events, wavhaven_customers");
            await context.GetService<Microsoft.EntityFrameworkCore.Storage.IRelationalDatabaseCreator>().CreateTablesAsync();
        }

        await using var inline = await StartAsync(database, emulator, runs, firstMode);
        await using var queued = await StartAsync(database, emulator, runs, secondMode);
        using var attempts = new QueueAttempts();
        using var api = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = emulator.BaseUrl };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", StripeEmulatorOptions.DefaultSecretKey);

        // Accounts first, then a Pro checkout per user, paid on the emulator's hosted page.
        await using (var context = CreateContext(database))
        {
            context.Accounts.AddRange(Enumerable.Range(1, Users).Select(i => new Account { UserId = "user-" + i }));
            await context.SaveChangesAsync();
        }

        var subscriptions = new Dictionary<string, string>();
        foreach (var chunk in Enumerable.Range(1, Users).Chunk(4))
        {
            var done = await Task.WhenAll(chunk.Select(async i =>
            {
                await using var scope = inline.Services.CreateAsyncScope();
                var checkout = scope.ServiceProvider.GetRequiredService<ICheckoutService>();
                var session = await checkout.CreateCheckoutAsync(new CheckoutRequest
                {
                    Buyer = CheckoutBuyer.Registered("user-" + i, $"user{i}@example.com", "User " + i),
                    Lines = [CheckoutLine.ForPlan("pro", PriceInterval.Month)],
                    FulfillmentType = "pro",
                    IdempotencyKey = "renewals-user-" + i,
                });
                await emulator.CompleteCheckoutAsync(session.Url.ToString());
                var completed = JsonNode.Parse(await api.GetStringAsync("v1/checkout/sessions/" + session.SessionId))!;
                return ("user-" + i, (string)completed["subscription"]!);
            }));
            foreach (var (user, subscription) in done)
            {
                subscriptions[user] = subscription;
            }
        }

        await emulator.WaitForDeliveriesAsync(TimeSpan.FromSeconds(60));
        await WaitUntilQueueDrainedAsync(database);
        var signupEvents = emulator.Events.Count;

        var clock = Stopwatch.StartNew();
        var stripeParallel = new List<HttpStatusCode>();
        for (var month = 1; month <= 2; month++)
        {
            // A few renewals fail this month (others the next).
            foreach (var i in Enumerable.Range(1, Users).Where(i => i % 7 == month))
            {
                emulator.FailNextRenewal(subscriptions["user-" + i]);
            }

            var before = emulator.Events.Count;
            await emulator.AdvanceClockAsync(TimeSpan.FromDays(31));

            // During the run: user-3 cancels in the portal, user-4 switches to yearly there (first month only).
            if (month == 1)
            {
                await PortalAsync(inline, "user-3", portal => PressAsync(api, portal, ("action", "cancel"), ("subscription", subscriptions["user-3"])));
                var itemId = (string)JsonNode.Parse(await api.GetStringAsync("v1/subscriptions/" + subscriptions["user-4"]))!["items"]!["data"]![0]!["id"]!;
                await PortalAsync(inline, "user-4", portal => PressAsync(api, portal, ("action", "switch"), ("subscription", subscriptions["user-4"]), ("item", itemId), ("price", "price_pro_year")), switchTo: "price_pro_year");
            }

            // Stripe's own deliveries are parallel, out of order and retried: each of the run's events once more, shuffled,
            // sixteen at a time, to one instance or the other.
            var run = emulator.Events.Skip(before).ToList();
            var random = new Random(month);
            var shuffled = run.OrderBy(_ => random.Next()).ToList();
            using var gate = new SemaphoreSlim(16);
            var answers = await Task.WhenAll(shuffled.Select(async (e, index) =>
            {
                await gate.WaitAsync();
                try
                {
                    var app = index % 2 == 0 ? inline : queued;
                    using var response = await app.PostAsync(Encoding.UTF8.GetBytes(e.Json));
                    return response.StatusCode;
                }
                finally
                {
                    gate.Release();
                }
            }));
            stripeParallel.AddRange(answers);
            await emulator.WaitForDeliveriesAsync(TimeSpan.FromSeconds(60));
            await WaitUntilQueueDrainedAsync(database);
        }

        var elapsed = clock.Elapsed;

        // The accounts against the emulator's subscriptions.
        var mismatches = new List<string>();
        await using (var context = CreateContext(database))
        {
            foreach (var (user, subscriptionId) in subscriptions)
            {
                var subscription = JsonNode.Parse(await api.GetStringAsync("v1/subscriptions/" + subscriptionId))!;
                var status = (string)subscription["status"]!;
                var item = subscription["items"]!["data"]![0]!;
                var periodEnd = DateTimeOffset.FromUnixTimeSeconds((long)item["current_period_end"]!);
                var cancels = (bool)subscription["cancel_at_period_end"]! || subscription["cancel_at"] is not null;
                var interval = (string)item["price"]!["id"]! == "price_pro_year" ? PriceInterval.Year : PriceInterval.Month;
                var account = await context.Accounts.AsNoTracking().SingleAsync(a => a.UserId == user);
                var expected = $"{subscriptionId} {status} {(status is "active" or "trialing" ? "pro" : "-")} {interval} {(cancels ? "-" : periodEnd.ToString("u"))}";
                var actual = $"{account.SubscriptionId} {account.Status} {account.Plan ?? "-"} {account.PlanInterval} {account.RenewsAt?.ToString("u") ?? "-"}";
                if (expected != actual)
                {
                    mismatches.Add($"{user}: expected {expected}, got {actual}");
                }
            }
        }

        var rows = await EventRowsAsync(database);
        var committedRuns = await CommittedRunsAsync(database);
        var health = await CheckHealthAsync(queued);
        var renewalEvents = emulator.Events.Skip(signupEvents).ToList();
        output.WriteLine($"{Users} subscriptions, {renewalEvents.Count} renewal-run events, run in {elapsed.TotalSeconds:0.0} s");
        output.WriteLine($"queue attempts by outcome: {string.Join(", ", attempts.ByOutcome.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))}");
        output.WriteLine($"parallel redeliveries: {string.Join(", ", stripeParallel.GroupBy(s => s).Select(g => $"{(int)g.Key}={g.Count()}"))}");
        output.WriteLine($"emulator deliveries: {emulator.Deliveries.Count} attempts, {emulator.Deliveries.Count(d => !d.Succeeded)} not 2xx");
        output.WriteLine($"rows by state: {string.Join(", ", rows.GroupBy(r => r.State).Select(g => $"{g.Key}={g.Count()}"))}");
        output.WriteLine($"health: {health.Status} {health.Description}");

        mismatches.Should().BeEmpty();
        rows.Where(r => r.State != "processed").Should().BeEmpty("every event is processed, none dead, failed or stuck");
        runs.ByEvent.Where(p => p.Value > 1).Should().BeEmpty("no handler runs twice for one event id");
        committedRuns.Where(p => p.Value > 1).Should().BeEmpty("no handler's work commits twice for one event id");
        health.Status.Should().Be(HealthStatus.Healthy, health.Description);
    }

    /// <summary>Holds the first save of an account that follows <see cref="Target"/> until the test releases it.</summary>
    public sealed class SaveGate : Microsoft.EntityFrameworkCore.Diagnostics.SaveChangesInterceptor
    {
        private int _armed = 1;

        public string Target { get; set; } = string.Empty;

        public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<int>> SavingChangesAsync(
            Microsoft.EntityFrameworkCore.Diagnostics.DbContextEventData eventData, Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            var saving = eventData.Context!.ChangeTracker.Entries<Account>().Any(e => e.State == EntityState.Modified && e.Entity.SubscriptionId == Target);
            if (saving && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                Held.TrySetResult();
                await Release.Task.WaitAsync(cancellationToken);
            }

            return result;
        }
    }

    /// <summary>
    /// A renewal night's backlog runs a user's two subscriptions' events at once: the end of the first subscription (the user
    /// cancelled it in the portal, then subscribed again) and the second one's creation. The library locks one subscription,
    /// not the customer, so the README's handler reads the account in both, and the first subscription's save lands last on
    /// the row the second one's has taken over: EF Core writes the columns it changed (plan, status, renewal), so the account
    /// follows the new, paid subscription with the old one's "canceled" and no plan: the user loses Pro while paying for it.
    /// </summary>
    [SkippableFact]
    public async Task PostgreSql_AUsersTwoSubscriptionsEventsAtOnce_TheReadmeHandlerKeepsTheAccountOnTheNewSubscription()
    {
        const long Day = 86_400;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        await using (var context = CreateContext(database))
        {
            await context.Database.ExecuteSqlRawAsync("DROP TABLE orders, wavhaven_webhook_events, wavhaven_customers");
            await context.GetService<Microsoft.EntityFrameworkCore.Storage.IRelationalDatabaseCreator>().CreateTablesAsync();
            context.Accounts.Add(new Account
            {
                UserId = "user-1", SubscriptionId = "sub_first", SubscriptionCreated = DateTimeOffset.FromUnixTimeSeconds(now - (10 * Day)),
                Plan = "pro", PlanInterval = PriceInterval.Month, RenewsAt = DateTimeOffset.FromUnixTimeSeconds(now + (20 * Day)), Status = "active",
            });
            await context.SaveChangesAsync();
        }

        var gate = new SaveGate { Target = "sub_first" };
        await using var app = await WebhookTestApp.StartAsync(
            payments: payments => payments.UseEntityFrameworkStores<RenewalDbContext>().AddSubscriptionHandler<ProSubscriptionHandler>(),
            services: services =>
            {
                services.AddSingleton(new Runs());
                services.AddDbContext<RenewalDbContext>(o => o.UseNpgsql(database.ConnectionString).AddInterceptors(gate));
            },
            logLevel: LogLevel.Warning);
        JsonObject Subscription(string id, long created, bool cancels, long periodEnd, string status = "active")
        {
            var subscription = TestEvents.Subscription(id, "price_pro_month", status, cancels, periodEnd, userId: "user-1");
            subscription["customer"] = "cus_user1"; // one user, one customer
            subscription["created"] = created;
            subscription["start_date"] = created;
            subscription["cancel_at"] = cancels ? periodEnd : null;
            return subscription;
        }

        var first = Subscription("sub_first", now - (10 * Day), cancels: true, now, status: "canceled");
        var second = Subscription("sub_second", now, cancels: false, now + (30 * Day));
        app.Stripe.On(HttpMethod.Get, "/v1/subscriptions/sub_first", _ => StubStripeHandler.Json(first.ToJsonString()));
        app.Stripe.On(HttpMethod.Get, "/v1/subscriptions/sub_second", _ => StubStripeHandler.Json(second.ToJsonString()));

        // The first subscription's end, its handler about to save what it read.
        var lateCancellation = app.PostAsync(TestEvents.Event("customer.subscription.deleted", first));
        await gate.Held.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // The second subscription's creation, at the same moment.
        var created = app.PostAsync(TestEvents.Event("customer.subscription.created", second));
        await Task.WhenAny(created, Task.Delay(TimeSpan.FromSeconds(3)));
        gate.Release.SetResult();

        (await created.WaitAsync(TimeSpan.FromSeconds(30))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await lateCancellation.WaitAsync(TimeSpan.FromSeconds(30))).StatusCode.Should().Be(HttpStatusCode.OK);
        await using var check = CreateContext(database);
        var account = await check.Accounts.AsNoTracking().SingleAsync(a => a.UserId == "user-1");
        $"{account.SubscriptionId} {account.Status} {account.Plan} {account.RenewsAt?.ToUnixTimeSeconds()}".Should().Be(
            $"sub_second active pro {now + (30 * Day)}",
            "the README's rule gives the account to the newer active subscription; run one after the other, either order ends there");
    }

    private static RenewalDbContext CreateContext(TestDatabase database) =>
        new(new DbContextOptionsBuilder<RenewalDbContext>().UseNpgsql(database.ConnectionString).Options);

    private static async Task<WebhookTestApp> StartAsync(TestDatabase database, StripeEmulator emulator, Runs runs, WebhookProcessingMode mode)
    {
        var app = await WebhookTestApp.StartAsync(
            options =>
            {
                options.SecretKey = StripeEmulatorOptions.DefaultSecretKey;
                options.ApiBaseUrl = emulator.BaseUrl;
                options.MaxNetworkRetries = 0;
                options.WebhookProcessing = mode;
                // The defaults scaled down (30 s → 500 ms) so that the night fits in a test; MaxAttempts as shipped.
                options.WebhookQueue.PollInterval = TimeSpan.FromMilliseconds(100);
                options.WebhookQueue.RetryDelay = TimeSpan.FromMilliseconds(500);
                options.WebhookQueue.MaxRetryDelay = TimeSpan.FromSeconds(2);
            },
            payments: payments => payments
                .UseEntityFrameworkStores<RenewalDbContext>()
                .AddFulfillmentHandler<ProCheckoutHandler>()
                .AddSubscriptionHandler<ProSubscriptionHandler>(),
            services: services =>
            {
                services.AddSingleton(runs);
                services.AddDbContext<RenewalDbContext>(o => o.UseNpgsql(database.ConnectionString));
                services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
                services.AddHealthChecks().AddStripePayments();
                EmulatedStripe.UseNetwork(services);
            },
            logLevel: LogLevel.Warning);
        app.Client.Timeout = TimeSpan.FromSeconds(90);
        emulator.AddWebhookEndpoint(new Uri(app.Client.BaseAddress!, "api/webhooks/stripe"), WebhookTestApp.Secret);
        return app;
    }

    private static async Task PortalAsync(WebhookTestApp app, string userId, Func<Uri, Task> act, string? switchTo = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var portal = await scope.ServiceProvider.GetRequiredService<IBillingPortalService>().CreatePortalSessionAsync(new BillingPortalRequest
        {
            UserId = userId,
            ReturnUrl = "https://shop.example/account",
            SwitchToPriceId = switchTo,
        });
        await act(portal.Url);
    }

    private static async Task PressAsync(HttpClient client, Uri page, params (string Name, string Value)[] fields)
    {
        using var form = new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));
        using var response = await client.PostAsync(page, form);
        ((int)response.StatusCode).Should().BeInRange(200, 399, await response.Content.ReadAsStringAsync());
    }

    private static async Task WaitUntilQueueDrainedAsync(TestDatabase database)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var rows = await EventRowsAsync(database);
            if (rows.All(r => r.State is "processed" or "dead"))
            {
                return;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, "the queue should drain: " + string.Join(", ", rows.Where(r => r.State != "processed").Select(r => $"{r.Id} {r.Type} {r.State} {r.Attempts} {r.Error}")));
            await Task.Delay(100);
        }
    }

    private static async Task<List<(string Id, string Type, string State, int Attempts, string? Error)>> EventRowsAsync(TestDatabase database)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id, type, state, attempts, last_error FROM wavhaven_webhook_events WHERE payload IS NOT NULL", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string, string, int, string?)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return rows;
    }

    private static async Task<Dictionary<string, int>> CommittedRunsAsync(TestDatabase database)
    {
        await using var context = CreateContext(database);
        return await context.HandledEvents.GroupBy(h => h.EventId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count);
    }

    private static async Task<HealthReportEntry> CheckHealthAsync(WebhookTestApp app) =>
        (await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["stripe"];

    /// <summary>Counts <c>wavhaven.payments.webhook.queue.attempts</c> by outcome.</summary>
    private sealed class QueueAttempts : IDisposable
    {
        private readonly MeterListener _listener = new();

        public QueueAttempts()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Wavhaven.Payments" && instrument.Name == "wavhaven.payments.webhook.queue.attempts")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "outcome")
                    {
                        ByOutcome.AddOrUpdate((string)tag.Value!, (int)value, (_, count) => count + (int)value);
                    }
                }
            });
            _listener.Start();
        }

        public ConcurrentDictionary<string, int> ByOutcome { get; } = new();

        public void Dispose() => _listener.Dispose();
    }
}
