using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Webhooks;
using Wavhaven.Payments.Subscriptions;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;
using Xunit.Abstractions;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>
/// A burst (a renewal run beside a flash sale) at two instances on one PostgreSQL database: several hundred distinct events,
/// each delivered one to three times, shuffled, many at once, with some handlers failing once; Stripe's redelivery simulated
/// by posting again whatever was not answered 2xx.
/// </summary>
public class BurstTests(ITestOutputHelper output)
{
    private const int Purchases = 120;
    private const int Subscriptions = 40;
    private const int Charges = 40;

    [SkippableTheory]
    [InlineData(WebhookProcessingMode.Inline)]
    [InlineData(WebhookProcessingMode.Queued)]
    public async Task TwoInstances_ABurstOfMixedEvents_DeliveredOneToThreeTimesShuffled_RunsEveryHandlerOnce_AndEndsHealthy(WebhookProcessingMode mode)
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        var probe = new Probe { WriteOrders = true };
        await using var first = await BurstApp.StartAsync(database, probe, mode, "burst-a");
        await using var second = await BurstApp.StartAsync(database, probe, mode, "burst-b");
        var burst = Burst.Create(seed: 7);
        foreach (var failing in burst.Failing)
        {
            probe.FailuresLeft[failing] = 1;
        }

        var clock = Stopwatch.StartNew();
        var answers = await burst.DeliverAsync([first, second], concurrency: 32);
        var delivered = clock.Elapsed;
        await WaitUntilSettledAsync(database, burst);
        var settled = clock.Elapsed;

        Report(mode, burst, answers, delivered, settled, [first, second]);
        AssertHandledOnce(burst, probe);
        await AssertOrdersAsync(database, burst);
        await AssertRowsAsync(database, burst, "processed");

        // Answers: 200, or 409 (in progress: Stripe retries), or 500 for the one failure of a handler that failed once.
        var unexpected = answers.Where(a => a.Status is not (HttpStatusCode.OK or HttpStatusCode.Conflict)
            && !(a.Status == HttpStatusCode.InternalServerError && mode == WebhookProcessingMode.Inline && burst.Failing.Contains(a.EventId)));
        unexpected.Should().BeEmpty("only a handler's failure is answered 500");
        answers.Where(a => a.Status == HttpStatusCode.InternalServerError).GroupBy(a => a.EventId).Where(g => g.Count() != 1).Should().BeEmpty(
            "a handler that fails once fails one delivery");

        foreach (var app in new[] { first, second })
        {
            var health = await app.CheckHealthAsync();
            health.Status.Should().Be(HealthStatus.Healthy, health.Description);
            AssertNoUnexpectedProblems(app, mode);
        }

        var libraryInfoLines = first.InformationLines() + second.InformationLines();
        ((double)libraryInfoLines / burst.Events.Count).Should().BeLessThanOrEqualTo(3, "the library logs a few lines per event at Information");
    }

    [SkippableTheory]
    [InlineData(WebhookProcessingMode.Inline)]
    [InlineData(WebhookProcessingMode.Queued)]
    public async Task TwoInstances_Burst_OneInstanceStoppedMidway_TheOtherFinishesItsEvents_EachOnce(WebhookProcessingMode mode)
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        // Handlers take a moment, so that the stop finds events in flight on the instance that stops.
        var probe = new Probe { WriteOrders = true, EventDelay = TimeSpan.FromMilliseconds(30) };
        var first = await BurstApp.StartAsync(database, probe, mode, "burst-a");
        await using var second = await BurstApp.StartAsync(database, probe, mode, "burst-b");
        var burst = Burst.Create(seed: 11);
        foreach (var failing in burst.Failing)
        {
            probe.FailuresLeft[failing] = 1;
        }

        var clock = Stopwatch.StartNew();
        var stopped = false;
        var answers = await burst.DeliverAsync([first, second], concurrency: 32, onProgress: async done =>
        {
            if (!stopped && done >= burst.Deliveries.Count / 2)
            {
                stopped = true;
                await first.DisposeAsync(); // a deploy: the first instance stops in the middle of the burst
            }
        });
        await WaitUntilSettledAsync(database, burst);
        Report(mode, burst, answers, clock.Elapsed, clock.Elapsed, [first, second]);

        // The stop cancelled the handlers it found running (queued: the host's stop; inline: Stripe's request, gone with the
        // instance): those were handed back, and started again on the other instance.
        var interrupted = first.Logs.Lines
            .Where(l => l.EventName is "WebhookQueueInterrupted" or "WebhookCancelled")
            .Select(l => l.Message.Split(' ')[l.EventName == "WebhookCancelled" ? 5 : 4])
            .ToHashSet();
        output.WriteLine($"  interrupted by the stop: {interrupted.Count}");
        foreach (var id in probe.EventAttempts.Where(a => a.Value > 1 && !burst.Failing.Contains(a.Key) && !interrupted.Contains(a.Key)).Select(a => a.Key))
        {
            foreach (var app in new[] { first, second })
            {
                foreach (var line in app.Logs.Lines.Where(l => l.Message.Contains(id, StringComparison.Ordinal) || l.Exception?.ToString().Contains(id, StringComparison.Ordinal) == true))
                {
                    output.WriteLine($"    {app.Name} {line.Level} {line.EventName}: {Cut(line.Message)} {line.Exception}");
                }
            }
        }

        foreach (var line in first.Logs.Lines.Where(l => l.Level >= LogLevel.Warning))
        {
            output.WriteLine($"    {first.Name} {line.Level} {line.EventName}: {Cut(line.Message)} {line.Exception}");
        }
        AssertHandledOnce(burst, probe, interrupted);
        await AssertOrdersAsync(database, burst);
        await AssertRowsAsync(database, burst, "processed");
        var health = await second.CheckHealthAsync();
        health.Status.Should().Be(HealthStatus.Healthy, health.Description);
        AssertNoUnexpectedProblems(second, mode);
    }

    [SkippableFact]
    public async Task TwoInstances_QueuedBurst_OneInstanceCrashesMidway_TheOtherFinishesItsClaimedEventsAfterTheLease_EachOnce()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        var probe = new Probe { WriteOrders = true, EventDelay = TimeSpan.FromMilliseconds(30) };
        Action<StripePaymentsOptions> options = o =>
        {
            o.WebhookClaimLease = TimeSpan.FromSeconds(3);
            o.WebhookQueue.MaxAttempts = 5;
        };
        var crash = new Crash("burst-a", database.ConnectionString);
        var first = await BurstApp.StartAsync(database, probe, WebhookProcessingMode.Queued, "burst-a", crash, options);
        await using var second = await BurstApp.StartAsync(database, probe, WebhookProcessingMode.Queued, "burst-b", configure: options);
        var burst = Burst.Create(seed: 13);
        foreach (var failing in burst.Failing)
        {
            probe.FailuresLeft[failing] = 1;
        }

        var clock = Stopwatch.StartNew();
        try
        {
            var crashed = false;
            var answers = await burst.DeliverAsync([first, second], concurrency: 24, onProgress: async done =>
            {
                if (!crashed && done >= burst.Deliveries.Count / 2)
                {
                    crashed = true;
                    first.MarkStopped(); // Stripe's deliveries find it gone
                    await crash.CrashAsync();
                }
            });
            await WaitUntilSettledAsync(database, burst);
            Report(WebhookProcessingMode.Queued, burst, answers, clock.Elapsed, clock.Elapsed, [first, second]);
            output.WriteLine($"  handlers held by the crashed instance: {crash.Held}, with {first.Logs.Lines.Count(l => l.EventName == "WebhookClaimRenewalFailed")} failed renewals");
            foreach (var id in probe.EventRuns.Where(run => run.Value != 1).Select(run => run.Key))
            {
                foreach (var app in new[] { first, second })
                {
                    foreach (var line in app.Logs.Lines.Where(l => l.Message.Contains(id, StringComparison.Ordinal) || l.Exception?.ToString().Contains(id, StringComparison.Ordinal) == true))
                    {
                        output.WriteLine($"    {app.Name} {line.Level} {line.EventName}: {Cut(line.Message)} {Cut(line.Exception?.ToString())}");
                    }
                }
            }

            foreach (var group in first.Logs.Lines.Where(l => l.Level >= LogLevel.Warning).GroupBy(l => l.EventName))
            {
                output.WriteLine($"    {first.Name} {group.Key}: {group.Count()} e.g. {Cut(group.First().Message)} {Cut(group.First().Exception?.Message)}");
            }

            // A handler that returned on the crashed instance just before its commit was lost ran again (its effects outside the
            // database, here the probe's count, are not rolled back: README); its writes to the database committed once.
            var unrecorded = first.Logs.Lines.Where(l => l.Level >= LogLevel.Warning).Select(l => l.Message).ToList();
            probe.EventRuns.Keys.Should().BeEquivalentTo(burst.Events.Keys, "every event ran");
            probe.EventRuns.Where(run => run.Value != 1 && !(run.Value == 2 && unrecorded.Any(m => m.Contains(run.Key, StringComparison.Ordinal))))
                .Should().BeEmpty("the event handler succeeded once per event id, but for an attempt whose outcome the crash lost");
            await AssertOrdersAsync(database, burst);
            await AssertRowsAsync(database, burst, "processed");
            var health = await second.CheckHealthAsync();
            health.Status.Should().Be(HealthStatus.Healthy, health.Description);
            AssertNoUnexpectedProblems(second, WebhookProcessingMode.Queued);
        }
        finally
        {
            crash.Released.TrySetResult();
            await first.DisposeAsync();
        }
    }

    private void Report(WebhookProcessingMode mode, Burst burst, IReadOnlyCollection<Answer> answers, TimeSpan delivered, TimeSpan settled, BurstApp[] apps)
    {
        output.WriteLine($"{mode}: {burst.Events.Count} events, {burst.Deliveries.Count} deliveries, {answers.Count} posts; delivered in {delivered.TotalSeconds:F1} s, settled in {settled.TotalSeconds:F1} s");
        foreach (var group in answers.GroupBy(a => (a.Status, a.Reason)).OrderBy(g => g.Key.Status))
        {
            output.WriteLine($"  {(int)group.Key.Status} {group.Key.Reason}: {group.Count()}");
        }

        foreach (var app in apps)
        {
            output.WriteLine($"  {app.Name}: {app.InformationLines()} library lines at Information; by level: "
                + string.Join(", ", app.Logs.Lines.GroupBy(l => l.Level).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}")));
            output.WriteLine("    at Information, by category and event: " + string.Join(", ", app.Logs.Lines.Where(l => l.Level == LogLevel.Information)
                .GroupBy(l => $"{l.Category}/{l.EventName}").OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}")));
            foreach (var line in app.Logs.Lines.Where(l => l.Level >= LogLevel.Warning).GroupBy(l => (l.Level, l.Category, l.EventName)).Take(20))
            {
                output.WriteLine($"    {line.Key.Level} {line.Key.Category} {line.Key.EventName}: {line.Count()} e.g. {Cut(line.First().Message)} {Cut(line.First().Exception?.ToString())}");
            }
        }
    }

    private static string Cut(string? text) => text is null ? string.Empty : text.Length > 300 ? text[..300] : text;

    private static void AssertHandledOnce(Burst burst, Probe probe, IReadOnlySet<string>? interrupted = null)
    {
        probe.EventRuns.Keys.Should().BeEquivalentTo(burst.Events.Keys, "every event ran");
        probe.EventRuns.Where(run => run.Value != 1).Should().BeEmpty("the event handler succeeded exactly once per event id");
        // An attempt that the host's stop interrupted may have started the event handler, or not yet.
        var startedAgain = probe.EventAttempts.Where(a => interrupted?.Contains(a.Key) == true
            ? a.Value > (burst.Failing.Contains(a.Key) ? 3 : 2)
            : a.Value != (burst.Failing.Contains(a.Key) ? 2 : 1));
        startedAgain.Should().BeEmpty("no handler started again beside its one failure");
    }

    private static async Task AssertOrdersAsync(TestDatabase database, Burst burst)
    {
        await using var db = database.CreateContext();
        var orders = await db.Orders.AsNoTracking().ToListAsync();
        var purchases = orders.Where(o => o.SessionId.StartsWith("cs_", StringComparison.Ordinal)).GroupBy(o => o.SessionId).ToDictionary(g => g.Key, g => g.Count());
        purchases.Should().HaveCount(Purchases, "every purchase was fulfilled");
        purchases.Where(p => p.Value != 1).Should().BeEmpty("each purchase was fulfilled once (its writes committed once)");
        var changes = orders.Where(o => o.SessionId.StartsWith("sub_", StringComparison.Ordinal)).GroupBy(o => o.EventId).ToDictionary(g => g.Key, g => g.Count());
        changes.Keys.Should().BeEquivalentTo(burst.SubscriptionEvents, "every subscription change reached the handler");
        changes.Where(c => c.Value != 1).Should().BeEmpty("the subscription handler's writes committed once per event");
    }

    private static async Task AssertRowsAsync(TestDatabase database, Burst burst, string state)
    {
        await using var db = database.CreateContext();
        var rows = await db.Set<WebhookEventRecord>().AsNoTracking().Select(e => new { e.Id, e.State }).ToListAsync();
        rows.Where(r => r.State != state).Select(r => $"{r.Id}: {r.State}").Should().BeEmpty("nothing is left claimed, failed or dead");
        rows.Should().HaveCount(burst.Events.Count + Purchases, "one row per event and one per purchase");
    }

    private static void AssertNoUnexpectedProblems(BurstApp app, WebhookProcessingMode mode)
    {
        // Expected: a handler's one failure (inline: 603, answered 500; queued: 622, retried). Anything else at Warning or
        // above (a pool exhausted, a deadlock, a lost claim, a record that failed) is a problem of the burst itself.
        var expected = mode == WebhookProcessingMode.Inline ? "WebhookHandlerFailed" : "WebhookQueueRetrying";
        app.Logs.Lines.Where(l => l.Level >= LogLevel.Warning && l.EventName != expected
                && !(l.Category.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal) && l.Exception?.Message.Contains("audit log is down", StringComparison.Ordinal) == true))
            .Select(l => $"{l.Level} {l.Category} {l.EventName}: {Cut(l.Message)} {Cut(l.Exception?.ToString())}")
            .Should().BeEmpty();
    }

    private static async Task WaitUntilSettledAsync(TestDatabase database, Burst burst)
    {
        var expected = burst.Events.Count + Purchases;
        await Probe.WaitForAsync(
            async () =>
            {
                await using var db = database.CreateContext();
                var rows = await db.Set<WebhookEventRecord>().GroupBy(e => e.State).Select(g => new { g.Key, Count = g.Count() }).ToListAsync();
                return string.Join(", ", rows.OrderBy(row => row.Key).Select(row => $"{row.Key}: {row.Count}"));
            },
            seen => seen == $"processed: {expected}",
            "every event and purchase is processed",
            TimeSpan.FromSeconds(60));
    }

    public sealed record Answer(string EventId, HttpStatusCode Status, string Reason);

    /// <summary>The events of the burst, their deliveries (one to three each, shuffled), and the events whose handler fails once.</summary>
    private sealed class Burst
    {
        public Dictionary<string, byte[]> Events { get; } = [];

        public List<string> Deliveries { get; } = [];

        public HashSet<string> Failing { get; } = [];

        public HashSet<string> SubscriptionEvents { get; } = [];

        public static Burst Create(int seed)
        {
            var random = new Random(seed);
            var burst = new Burst();
            var run = Guid.NewGuid().ToString("N")[..8];
            for (var i = 0; i < Purchases; i++)
            {
                var session = TestEvents.CheckoutSession($"cs_test_{run}_{i:D4}", userId: $"order-{i}");
                burst.Add(TestEvents.Event("checkout.session.completed", session));
                if (i % 4 == 0)
                {
                    // A second event of the same purchase (a bank debit that succeeded): the purchase is still fulfilled once.
                    burst.Add(TestEvents.Event("checkout.session.async_payment_succeeded", session.DeepClone().AsObject()));
                }
            }

            for (var i = 0; i < Subscriptions; i++)
            {
                var subscriptionId = $"sub_{run}_{i:D3}";
                foreach (var type in new[] { "customer.subscription.updated", "invoice.paid", "invoice.payment_succeeded", "invoice.finalized" })
                {
                    var data = type.StartsWith("customer.", StringComparison.Ordinal)
                        ? TestEvents.Subscription(subscriptionId, "price_pro_month", userId: $"user-{i}")
                        : TestEvents.Invoice($"in_{run}_{i:D3}", subscriptionId, userId: $"user-{i}");
                    var id = burst.Add(TestEvents.Event(type, data));
                    if (SubscriptionChangeFactory.TryGetReason(type, out _))
                    {
                        burst.SubscriptionEvents.Add(id);
                    }
                }
            }

            for (var i = 0; i < Charges; i++)
            {
                burst.Add(TestEvents.Event("charge.succeeded", StripeFixtures.Get("charge")));
            }

            var index = 0;
            foreach (var id in burst.Events.Keys)
            {
                if (index++ % 9 == 4)
                {
                    burst.Failing.Add(id);
                }

                var copies = random.Next(1, 4);
                for (var copy = 0; copy < copies; copy++)
                {
                    burst.Deliveries.Add(id);
                }
            }

            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(burst.Deliveries));
            return burst;
        }

        /// <summary>
        /// Posts every delivery, <paramref name="concurrency"/> at a time, each to either instance; one answered other than
        /// 2xx is posted again shortly (Stripe's retry), to either instance, until it is.
        /// </summary>
        public async Task<IReadOnlyCollection<Answer>> DeliverAsync(BurstApp[] apps, int concurrency, Func<int, Task>? onProgress = null)
        {
            var answers = new ConcurrentQueue<Answer>();
            var done = 0;
            var progress = new SemaphoreSlim(1, 1);
            await Parallel.ForEachAsync(Deliveries.Select((id, n) => (id, n)), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (delivery, _) =>
            {
                var (id, n) = delivery;
                for (var attempt = 0; ; attempt++)
                {
                    var live = apps.Where(a => !a.Stopped).ToArray();
                    var app = live[(n + attempt) % live.Length];
                    HttpResponseMessage response;
                    try
                    {
                        response = await app.PostAsync(Events[id]);
                    }
                    catch (Exception) when (app.Stopped)
                    {
                        continue; // the instance stopped under this delivery: Stripe sees a connection error, and retries
                    }

                    using (response)
                    {
                        answers.Enqueue(new Answer(id, response.StatusCode, await response.Content.ReadAsStringAsync()));
                        if (response.IsSuccessStatusCode)
                        {
                            break;
                        }
                    }

                    attempt.Should().BeLessThan(50, "Stripe's redeliveries of {0} end in a 2xx", id);
                    await Task.Delay(100 + Random.Shared.Next(200));
                }

                var count = Interlocked.Increment(ref done);
                if (onProgress is not null)
                {
                    await progress.WaitAsync();
                    try
                    {
                        await onProgress(count);
                    }
                    finally
                    {
                        progress.Release();
                    }
                }
            });
            return answers;
        }

        private string Add(JsonObject stripeEvent)
        {
            var id = stripeEvent["id"]!.GetValue<string>();
            Events.Add(id, DurableApp.Body(stripeEvent));
            return id;
        }
    }

    /// <summary>The subscription handler of the app: records each change through the app's context, in the event's transaction.</summary>
    public sealed class BurstSubscriptionHandler(TestDbContext db) : ISubscriptionHandler
    {
        public async Task HandleAsync(SubscriptionChange change, CancellationToken cancellationToken)
        {
            db.Orders.Add(new Order { SessionId = change.SubscriptionId, EventId = change.Event.Id });
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>One instance: Kestrel on loopback, the EF Core stores on the shared database, the health check, Information logs.</summary>
    public sealed class BurstApp : IAsyncDisposable
    {
        private readonly WebhookTestApp _app;
        private int _disposed;

        private BurstApp(WebhookTestApp app, string name)
        {
            _app = app;
            Name = name;
        }

        public string Name { get; }

        public bool Stopped => Volatile.Read(ref _disposed) == 1 || _markedStopped;

        private volatile bool _markedStopped;

        public void MarkStopped() => _markedStopped = true;

        public LogSink Logs => _app.Logs;

        public static async Task<BurstApp> StartAsync(TestDatabase database, Probe probe, WebhookProcessingMode mode, string name, Crash? crash = null, Action<StripePaymentsOptions>? configure = null)
        {
            // Each instance its own pool, as two processes would have, at Npgsql's default size.
            var connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString) { ApplicationName = name, MaxPoolSize = 100 }.ToString();
            var app = await WebhookTestApp.StartAsync(
                options =>
                {
                    if (mode == WebhookProcessingMode.Queued)
                    {
                        DurableApp.QueuedForTests(options);
                    }

                    configure?.Invoke(options);
                },
                payments: payments =>
                {
                    payments
                        .UseEntityFrameworkStores<TestDbContext>()
                        .AddFulfillmentHandler<ProbeFulfillmentHandler>()
                        .AddSubscriptionHandler<BurstSubscriptionHandler>();
                    if (crash is not null)
                    {
                        payments.AddEventHandler<CrashGate>(); // before the probe's handler: a crashed instance never gets to it
                    }

                    payments.AddEventHandler<ProbeEventHandler>();
                },
                services: services =>
                {
                    services.AddSingleton(probe);
                    if (crash is not null)
                    {
                        services.AddSingleton(crash);
                    }

                    services.AddDbContext<TestDbContext>(o =>
                    {
                        o.UseNpgsql(connectionString);
                        if (crash is not null)
                        {
                            o.AddInterceptors(crash);
                        }
                    });
                    services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
                    services.AddHealthChecks().AddStripePayments();
                },
                logLevel: LogLevel.Information);
            app.Client.Timeout = TimeSpan.FromSeconds(90);
            app.Stripe.On(HttpMethod.Get, "/v1/subscriptions/*", request =>
                StubStripeHandler.Json(TestEvents.Subscription(request.Path["/v1/subscriptions/".Length..], "price_pro_month").ToJsonString()));
            app.Stripe.OnJson(HttpMethod.Get, "/v1/webhook_endpoints", """{"object":"list","has_more":false,"data":[]}""");
            return new BurstApp(app, name);
        }

        public Task<HttpResponseMessage> PostAsync(byte[] body) => _app.PostAsync(body);

        public async Task<HealthReportEntry> CheckHealthAsync() =>
            (await _app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["stripe"];

        /// <summary>The library's own lines at Information and above (not the framework's request lines, nor EF Core's).</summary>
        public int InformationLines() => Logs.Lines.Count(l => l.Level >= LogLevel.Information && l.Category.StartsWith("Wavhaven.", StringComparison.Ordinal));

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                await _app.DisposeAsync();
            }
        }
    }
    /// <summary>
    /// A process that dies, simulated in one: from <see cref="CrashAsync"/> on, its database connections are gone (the server
    /// ends them, rolling back their transactions) and it can open no other, and a handler it starts never returns.
    /// </summary>
    public sealed class Crash(string applicationName, string connectionString) : Microsoft.EntityFrameworkCore.Diagnostics.DbConnectionInterceptor
    {
        private volatile bool _crashed;

        /// <summary>Handlers the crash caught mid-event: the server rolled their transactions back, and they never return.</summary>
        public int Held;

        public bool Crashed => _crashed;

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task CrashAsync()
        {
            _crashed = true;
            await using var admin = new NpgsqlConnection(connectionString);
            await admin.OpenAsync();
            await using var kill = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @name", admin);
            kill.Parameters.AddWithValue("name", applicationName);
            await kill.ExecuteScalarAsync();
        }

        public override ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult> ConnectionOpeningAsync(
            System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEventData eventData, Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult result, CancellationToken cancellationToken = default) =>
            _crashed ? throw new InvalidOperationException("This instance has crashed.") : ValueTask.FromResult(result);
    }

    /// <summary>The crashed instance's first event handler: once it has crashed, a handler never gets past it.</summary>
    public sealed class CrashGate(Crash crash) : IStripeEventHandler
    {
        public async Task HandleAsync(StripeEvent stripeEvent, CancellationToken cancellationToken)
        {
            if (crash.Crashed)
            {
                Interlocked.Increment(ref crash.Held);
                await crash.Released.Task; // a dead process does not honour its token
                throw new InvalidOperationException("This instance has crashed.");
            }
        }
    }
}
