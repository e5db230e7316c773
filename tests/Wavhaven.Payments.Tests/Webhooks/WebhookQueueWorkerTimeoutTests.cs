using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Wavhaven.Payments.Tests.Diagnostics;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Tests.Webhooks;

/// <summary>
/// Stripe:WebhookQueue:HandlerTimeout: the queue worker cancels the handlers' token when the limit passes, counts the attempt
/// as failed, and never starts the event again while a handler that ignores its token still runs. On a fake clock, with a
/// queue that keeps the durable stores' leases and renewals.
/// </summary>
[Collection(nameof(TelemetryCollection))] // the worker's measurements are read from the library's static meter
public sealed class WebhookQueueWorkerTimeoutTests
{
    private const string AttemptsInstrument = "wavhaven.payments.webhook.queue.attempts";
    private const string TimeoutLog = "WebhookQueueHandlerTimeout";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task HandlerPastTheLimit_IsCancelled_AndTheAttemptFails_ThenTheRetryAfterTheBackoffSucceedsOnce()
    {
        using var telemetry = new TelemetryCapture();
        await using var app = await WorkerApp.StartAsync(Limit, (run, token) => run == 1 ? Task.Delay(Timeout.Infinite, token) : Task.CompletedTask);
        await app.Script.WaitForRunAsync(1);

        app.Clock.Advance(Limit - TimeSpan.FromSeconds(1));
        await Task.Delay(50);
        app.Script.Tokens[0].IsCancellationRequested.Should().BeFalse("the limit has not passed yet");

        app.Clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually(() => app.Queue.Info(app.EventId).State == WebhookEventState.Failed, "the timed-out attempt is recorded as failed");

        var failed = app.Queue.Info(app.EventId);
        failed.Attempts.Should().Be(1);
        failed.LastError.Should().StartWith("Timeout: the handlers ran past Stripe:WebhookQueue:HandlerTimeout (00:00:10)")
            .And.Contain("CanceledException", "what the handler threw is kept");
        failed.NextAttemptAt.Should().Be(app.Clock.GetUtcNow() + RetryDelay, "a timeout is retried with the usual backoff");
        await Attempts(telemetry, 1);
        var warning = app.Logs.Lines.Should().ContainSingle(l => l.EventName == TimeoutLog).Which;
        warning.Level.Should().Be(LogLevel.Warning);
        warning.Message.Should().Contain(app.EventId).And.Contain("charge.refunded").And.Contain("00:00:10");
        telemetry.Measurements.Where(m => m.Instrument == AttemptsInstrument).Should().ContainSingle()
            .Which.Tags.Should().Contain("outcome", "retry").And.Contain("error.type", "timeout");

        await AdvanceUntil(app.Clock, TimeSpan.FromSeconds(5), () => app.Queue.Info(app.EventId).State == WebhookEventState.Processed, "the retry ran");

        app.Script.Runs.Should().Be(2, "the handler ran once more, and succeeded");
        app.Queue.Info(app.EventId).Attempts.Should().Be(2);
        app.Logs.Lines.Count(l => l.EventName == TimeoutLog).Should().Be(1);
        (await Attempts(telemetry, 2)).Last().Tags.Should().Contain("outcome", "processed").And.NotContainKey("error.type");
    }

    [Fact]
    public async Task HandlerPastTheLimitOnTheLastAttempt_IsDead()
    {
        using var telemetry = new TelemetryCapture();
        await using var app = await WorkerApp.StartAsync(Limit, (_, token) => Task.Delay(Timeout.Infinite, token), maxAttempts: 1);
        await app.Script.WaitForRunAsync(1);

        app.Clock.Advance(Limit);
        await Eventually(() => app.Queue.Info(app.EventId).State == WebhookEventState.Dead, "the last attempt timed out");

        app.Queue.Info(app.EventId).LastError.Should().StartWith("Timeout: ");
        (await Attempts(telemetry, 1)).Should().ContainSingle()
            .Which.Tags.Should().Contain("outcome", "dead").And.Contain("error.type", "timeout");
    }

    [Fact]
    public async Task HandlerThatIgnoresItsToken_KeepsItsClaimAndIsNotRunAgain_AndItsEventIsProcessedWhenItReturns()
    {
        using var telemetry = new TelemetryCapture();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Two slots, so that a free one would take the event again if its claim lapsed.
        await using var app = await WorkerApp.StartAsync(Limit, (_, _) => release.Task, maxConcurrency: 2);
        await app.Script.WaitForRunAsync(1);

        await AdvanceUntil(app.Clock, TimeSpan.FromSeconds(1), () => app.Script.Tokens[0].IsCancellationRequested, "the limit cancelled the token");
        for (var step = 0; step < 60; step++)
        {
            app.Clock.Advance(TimeSpan.FromSeconds(5)); // ten leases in all, polled every 5 s
            await Task.Delay(10);
        }

        app.Script.Runs.Should().Be(1, "the event is never started again while its first run goes on");
        app.Script.MostAtOnce.Should().Be(1);
        app.Queue.Info(app.EventId).State.Should().Be(WebhookEventState.Processing);
        app.Queue.Renewals.Should().BeGreaterThanOrEqualTo(20, "the worker kept renewing the claim of the handler it waits for");
        app.Logs.Lines.Count(l => l.EventName == TimeoutLog).Should().Be(1, "the limit is logged once, however long the handler runs on");
        telemetry.Measurements.Should().NotContain(m => m.Instrument == AttemptsInstrument, "the attempt is not over");

        release.SetResult();
        await Eventually(() => app.Queue.Info(app.EventId).State == WebhookEventState.Processed, "the handler returned");

        app.Queue.Info(app.EventId).Attempts.Should().Be(1);
        app.Script.Runs.Should().Be(1);
        (await Attempts(telemetry, 1)).Should().ContainSingle()
            .Which.Tags.Should().Contain("outcome", "processed");
    }

    [Fact]
    public async Task WithoutALimit_ASlowHandlerIsNeverCancelled_AndItsEventIsProcessedOnItsFirstAttempt()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await WorkerApp.StartAsync(TimeSpan.Zero, (_, _) => release.Task);
        await app.Script.WaitForRunAsync(1);

        for (var step = 0; step < 120; step++)
        {
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(5);
        }

        app.Script.Tokens[0].IsCancellationRequested.Should().BeFalse("00:00:00, the default, sets no limit");
        release.SetResult();
        await Eventually(() => app.Queue.Info(app.EventId).State == WebhookEventState.Processed, "the handler returned");
        app.Queue.Info(app.EventId).Attempts.Should().Be(1);
        app.Script.Runs.Should().Be(1);
        app.Logs.Lines.Should().NotContain(l => l.EventName == TimeoutLog);
    }

    [Fact]
    public async Task HostStoppingDuringAHandler_HandsTheEventBackDueNow_EvenIfTheLimitPassesBeforeTheHandlerReturns()
    {
        using var telemetry = new TelemetryCapture();
        var honour = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // A handler slow to honour its token: the stop cancels it first, and the limit passes before it returns.
        await using var app = await WorkerApp.StartAsync(Limit, async (_, token) =>
        {
            await Task.Delay(Timeout.Infinite, token).ContinueWith(_ => { }, TaskScheduler.Default);
            await honour.Task;
            token.ThrowIfCancellationRequested();
        });
        await app.Script.WaitForRunAsync(1);
        app.Clock.Advance(TimeSpan.FromSeconds(5));

        var stopping = app.Worker.StopAsync(CancellationToken.None);
        await Eventually(() => app.Script.Tokens[0].IsCancellationRequested, "the stop cancelled the handlers' token");
        app.Clock.Advance(Limit);
        honour.SetResult();
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));

        var info = app.Queue.Info(app.EventId);
        info.State.Should().Be(WebhookEventState.Failed);
        app.Script.Runs.Should().Be(1, "a worker that is stopping starts no other run, even in the slot its interrupted event frees");
        info.Attempts.Should().Be(1);
        info.LastError.Should().StartWith("Interrupted: the host stopped", "a stop is a stop, not a timeout");
        info.NextAttemptAt.Should().Be(app.Clock.GetUtcNow(), "an interrupted event is due again at once, not after a backoff");
        app.Logs.Lines.Should().NotContain(l => l.EventName == TimeoutLog);
        (await Attempts(telemetry, 1)).Should().ContainSingle()
            .Which.Tags.Should().Contain("outcome", "retry").And.NotContainKey("error.type");
    }

    /// <summary>
    /// A handler's callback on its token that throws (here the common slip of <c>SetCanceled</c> where <c>TrySetCanceled</c>
    /// was meant, on a source already completed): the limit's timer cancelled the token on the timer's own thread, and
    /// <c>Cancel</c> rethrew the callback's exception as an <see cref="AggregateException"/> out of the timer callback. On
    /// the system clock an exception escaping a timer callback ends the process: a handler's bug, which any other way it
    /// shows fails only its attempt, took the whole app down. (The fake clock runs the callback inside <c>Advance</c>,
    /// which is where the exception surfaces here.)
    /// </summary>
    [Fact]
    public async Task AHandlersCancellationCallbackThatThrows_AtTheLimit_FailsTheAttempt_AndDoesNotEscapeTheTimer()
    {
        await using var app = await WorkerApp.StartAsync(Limit, async (_, token) =>
        {
            var reply = new TaskCompletionSource();
            using var registration = token.Register(() => reply.SetCanceled());
            reply.SetResult(); // the reply came: the registration is the handler's, still in place while it goes on
            await reply.Task;
            await Task.Delay(Timeout.Infinite, token);
        }, maxAttempts: 1);
        await app.Script.WaitForRunAsync(1);

        FluentActions.Invoking(() => app.Clock.Advance(Limit)).Should().NotThrow(
            "the timer's callback must contain what the handlers' callbacks throw: on the system clock it would end the process");
        await Eventually(() => app.Queue.Info(app.EventId).State == WebhookEventState.Dead, "the attempt failed at the limit");
        app.Queue.Info(app.EventId).LastError.Should().StartWith("Timeout: ");
    }

    /// <summary>The worker's attempts once <paramref name="count"/> are recorded: it records one after the queue's mark.</summary>
    private static async Task<IReadOnlyList<(string Instrument, double Value, Dictionary<string, object?> Tags)>> Attempts(TelemetryCapture telemetry, int count)
    {
        await Eventually(() => telemetry.Measurements.Count(m => m.Instrument == AttemptsInstrument) >= count, count + " attempts are recorded");
        return [.. telemetry.Measurements.Where(m => m.Instrument == AttemptsInstrument)];
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "waiting until {0}", what);
            await Task.Delay(10);
        }
    }

    /// <summary>Moves the fake clock on by <paramref name="step"/> until the condition holds, letting the worker run between steps.</summary>
    private static async Task AdvanceUntil(FakeTimeProvider clock, TimeSpan step, Func<bool> condition, string what)
    {
        for (var steps = 0; !condition(); steps++)
        {
            steps.Should().BeLessThan(1000, "waiting until {0}", what);
            clock.Advance(step);
            await Task.Delay(10);
        }
    }

    /// <summary>The library's services with a queue worker on a fake clock, one queued event, and a scripted event handler.</summary>
    private sealed class WorkerApp : IAsyncDisposable
    {
        private readonly ServiceProvider _services;

        private WorkerApp(ServiceProvider services, FakeTimeProvider clock, LogSink logs)
        {
            _services = services;
            Clock = clock;
            Logs = logs;
            Queue = (LeasedWebhookQueue)services.GetRequiredService<IWebhookEventStore>();
            Script = services.GetRequiredService<HandlerScript>();
            Worker = services.GetServices<IHostedService>().OfType<WebhookQueueWorker>().Single();
            EventId = Queue.Add("evt_timeout_" + Guid.NewGuid().ToString("N")[..12]);
        }

        public FakeTimeProvider Clock { get; }

        public LogSink Logs { get; }

        public LeasedWebhookQueue Queue { get; }

        public HandlerScript Script { get; }

        public WebhookQueueWorker Worker { get; }

        public string EventId { get; }

        public static async Task<WorkerApp> StartAsync(TimeSpan handlerTimeout, Func<int, CancellationToken, Task> run, int maxAttempts = 12, int maxConcurrency = 1)
        {
            var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
            var logs = new LogSink();
            var collection = new ServiceCollection();
            collection.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
            collection.AddSingleton<TimeProvider>(clock);
            collection.AddSingleton(new HandlerScript(run));
            collection.AddStripePayments(options =>
                {
                    TestServices.DefaultOptions(options);
                    options.WebhookProcessing = WebhookProcessingMode.Queued;
                    options.WebhookQueue.HandlerTimeout = handlerTimeout;
                    options.WebhookQueue.MaxAttempts = maxAttempts;
                    options.WebhookQueue.MaxConcurrency = maxConcurrency;
                    options.WebhookQueue.RetryDelay = RetryDelay;
                    options.WebhookQueue.PollInterval = TimeSpan.FromSeconds(5);
                })
                .UseEventStore<LeasedWebhookQueue>(ServiceLifetime.Singleton)
                .AddEventHandler<ScriptedHandler>();
            var app = new WorkerApp(collection.BuildServiceProvider(), clock, logs);
            await app.Worker.StartAsync(CancellationToken.None);
            return app;
        }

        public async ValueTask DisposeAsync()
        {
            using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Worker.StopAsync(giveUp.Token);
            await _services.DisposeAsync();
        }
    }

    /// <summary>What the event handler does on each run (numbered from 1), and what the test reads of its runs.</summary>
    private sealed class HandlerScript(Func<int, CancellationToken, Task> run)
    {
        private readonly SemaphoreSlim _started = new(0);
        private readonly List<CancellationToken> _tokens = [];
        private int _runs;
        private int _running;
        private int _mostAtOnce;

        public int Runs => Volatile.Read(ref _runs);

        public int MostAtOnce => Volatile.Read(ref _mostAtOnce);

        public IReadOnlyList<CancellationToken> Tokens
        {
            get
            {
                lock (_tokens)
                {
                    return [.. _tokens];
                }
            }
        }

        public async Task WaitForRunAsync(int run)
        {
            while (Runs < run)
            {
                (await _started.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue("run {0} of the handler should start", run);
            }
        }

        public async Task HandleAsync(CancellationToken cancellationToken)
        {
            lock (_tokens)
            {
                _tokens.Add(cancellationToken);
            }

            var number = Interlocked.Increment(ref _runs);
            var running = Interlocked.Increment(ref _running);
            InterlockedMax(ref _mostAtOnce, running);
            _started.Release();
            try
            {
                await run(number, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int current;
            while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
            {
            }
        }
    }

    private sealed class ScriptedHandler(HandlerScript script) : IStripeEventHandler
    {
        public Task HandleAsync(StripeEvent stripeEvent, CancellationToken cancellationToken) => script.HandleAsync(cancellationToken);
    }
}
