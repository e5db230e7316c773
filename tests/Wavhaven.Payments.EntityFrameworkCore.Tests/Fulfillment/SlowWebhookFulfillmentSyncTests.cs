using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Fulfillment;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Fulfillment;

/// <summary>
/// The buyer reaches the success page while the queue worker is still running the purchase's fulfillment handler (a slow
/// one: queued mode is there for those). The README's success page answers <see cref="CheckoutSyncStatus.Fulfilling"/>
/// ("Almost done: refresh in a moment") after a short wait; it must not hang on the handler, nor fail when the handler
/// outlasts the database's command timeout.
/// </summary>
public class SlowWebhookFulfillmentSyncTests
{
    [SkippableFact]
    public async Task SuccessPage_WhileTheWorkerFulfilsThePurchase_AnswersFulfilling_WithoutWaitingForTheHandler()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        // The app's usual command timeout, scaled down with the handler's time so that the test takes seconds: a handler
        // that takes 40 s against the default 30 s behaves the same.
        var connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString) { CommandTimeout = 5 }.ToString();
        var gate = new SlowOrderWriter.Gate();
        var session = TestEvents.CheckoutSession("cs_test_slow_handler");
        var app = await WebhookTestApp.StartAsync(
            DurableApp.QueuedForTests,
            payments: payments => payments.UseEntityFrameworkStores<TestDbContext>().AddFulfillmentHandler<SlowOrderWriter>(),
            services: services =>
            {
                services.AddSingleton(gate);
                services.AddDbContext<TestDbContext>(options => options.UseNpgsql(connectionString));
                services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
            },
            logLevel: LogLevel.Warning);
        await using var _ = app;
        app.Stripe.OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_slow_handler", session.ToJsonString());
        try
        {
            using (var queued = await app.PostAsync(TestEvents.Event("checkout.session.completed", session)))
            {
                queued.StatusCode.Should().Be(HttpStatusCode.OK);
            }

            (await gate.Started.Task.WaitAsync(TimeSpan.FromSeconds(30))).Should().Be("cs_test_slow_handler");

            // The success page, as the README writes it, in a request's scope. Had its claim waited for the handler, it would
            // have failed at the connection's 5 s command timeout.
            CheckoutSyncStatus status;
            await using (var scope = app.Services.CreateAsyncScope())
            {
                var sync = async () => (await scope.ServiceProvider.GetRequiredService<ICheckoutService>().SyncCheckoutAsync("cs_test_slow_handler")).Status;
                status = (await sync.Should().NotThrowAsync("the page shows 'almost done' while the webhook's handler runs")).Subject;
            }

            status.Should().Be(CheckoutSyncStatus.Fulfilling);
        }
        finally
        {
            gate.Release.TrySetResult();
        }

        await Probe.WaitForAsync(
            async () =>
            {
                await using var db = database.CreateContext();
                return await db.Orders.CountAsync(o => o.SessionId == "cs_test_slow_handler");
            },
            count => count == 1,
            "the worker's handler wrote the order");
    }

    /// <summary>Saves the order, then takes its time (a licence file rendered, a slow mail server) until the test releases it.</summary>
    private sealed class SlowOrderWriter(TestDbContext db, SlowOrderWriter.Gate gate) : IFulfillmentHandler
    {
        public string Type => "license";

        public async Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
        {
            db.Orders.Add(new Order { SessionId = context.SessionId, EventId = context.Event?.Id ?? "sync" });
            await db.SaveChangesAsync(cancellationToken);
            gate.Started.TrySetResult(context.SessionId);
            await gate.Release.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }

        public sealed class Gate
        {
            public TaskCompletionSource<string> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }
}
