using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>
/// The execution strategy's check of a failed unit (EnableRetryOnFailure): it is asked after any transient failure, not
/// only a commit's, and must answer "succeeded" only for a unit whose transaction committed.
/// </summary>
public class RetryVerificationTests
{
    /// <summary>
    /// A checkout.session.completed delivery fulfils the purchase (marking it processed in its transaction), then its event
    /// handler's write fails transiently: the transaction rolls back, purchase mark and all. Before the strategy's check reads
    /// the marks, the success page fulfils the purchase (its claim was waiting for the delivery's uncommitted row). The check
    /// finds the purchase processed and answers that the delivery's unit committed: the delivery answers 200 "ignored", its
    /// event handler never runs, and the event stays 'processing' with nobody to finish it (Stripe does not redeliver a 200).
    /// </summary>
    [SkippableFact]
    public async Task RetryOnFailure_TransientFailureAfterThePurchaseMark_WithThePurchaseFulfilledMeanwhile_StillRunsTheEventHandler()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        var state = new ContextConfigurationTests.HandlerState();
        var fault = new EventHandlerFaultThenSync();
        await using var app = await ContextConfigurationTests.StartAsync(database, state, ContextConfigurationTests.Setup.RetryOnFailure, fault, eventHandler: true);
        app.Stripe.OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_verify", TestEvents.CheckoutSession("cs_test_verify").ToJsonString());
        fault.AfterRollback = async () =>
        {
            await using var scope = app.Services.CreateAsyncScope();
            (await scope.ServiceProvider.GetRequiredService<ICheckoutService>().SyncCheckoutAsync("cs_test_verify")).Status
                .Should().Be(CheckoutSyncStatus.Fulfilled, "the delivery's purchase claim rolled back, so the page's claim is taken");
        };
        var completed = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_verify"));
        var eventId = completed["id"]!.GetValue<string>();

        using var response = await app.PostAsync(completed);
        var answer = await response.Content.ReadAsStringAsync();

        fault.Thrown.Should().Be(1);
        fault.Synced.Should().Be(1, "the success page fulfilled the purchase between the rollback and the strategy's check");
        await using var db = database.CreateContext();
        using var assertions = new FluentAssertions.Execution.AssertionScope();
        answer.Should().Be("processed");
        (await db.Orders.CountAsync(o => o.SessionId == "event" && o.EventId == eventId))
            .Should().Be(1, "the event handler's write failed transiently and rolled back: the strategy must run the unit again");
        (await db.Set<WebhookEventRecord>().AsNoTracking().SingleAsync(e => e.Id == eventId)).State
            .Should().Be("processed", "the delivery was answered 200 ('{0}'), so Stripe will not deliver the event again", answer);
    }

    /// <summary>
    /// Fails the event handler's write (the second order insert of the delivery) as a dropped connection would (transient);
    /// then, on the first connection opened after it (the strategy's check, once the rollback closed the transaction's),
    /// runs <see cref="AfterRollback"/> before letting the check go on.
    /// </summary>
    private sealed class EventHandlerFaultThenSync : DbCommandInterceptor, IDbConnectionInterceptor
    {
        private int _inserts;
        private int _thrown;
        private int _synced;

        public Func<Task>? AfterRollback { get; set; }

        public int Thrown => _thrown;

        public int Synced => _synced;

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.Contains("INSERT INTO orders", StringComparison.Ordinal) && Interlocked.Increment(ref _inserts) == 2)
            {
                Interlocked.Exchange(ref _thrown, 1);
                throw new NpgsqlException("Exception while reading from stream", new TimeoutException("simulated"));
            }

            return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }

        async Task IDbConnectionInterceptor.ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _thrown) == 1 && Interlocked.CompareExchange(ref _synced, 1, 0) == 0 && AfterRollback is { } sync)
            {
                await sync();
            }
        }
    }
}
