using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>A deploy's graceful stop (SIGTERM: IHost.StopAsync within HostOptions.ShutdownTimeout) while work is in flight.</summary>
public class GracefulShutdownTests
{
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task QueuedInstanceStopped_WhileALongLivedRequestTakesKestrelsWholeDrain_HandsItsRunningEventBackBeforeTheStopReturns(DatabaseKind kind)
    {
        // An app with a long-lived request open at the deploy (server-sent events, a WebSocket or SignalR connection, a large
        // download): Kestrel waits for it until HostOptions.ShutdownTimeout, and only then are the app's hosted services
        // stopped. When StopAsync returns, app.Run() returns and the process ends: whatever the worker has not recorded by
        // then is lost, and an event left 'processing' waits out its lease (Stripe:WebhookClaimLease, 5 minutes), its attempt
        // used up. README: "A worker that stops during an event (a deploy) hands it back at once".
        await using var database = await TestDatabase.CreateAsync(kind);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();
        // The handler honours its token, and takes a moment to give up (an HTTP call being aborted, a file closed).
        var probe = new Probe { HangUntilCancelled = true, CancellationUnwind = TimeSpan.FromMilliseconds(500) };
        var streamOpen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var app = await DurableApp.StartAsync(
            database,
            probe,
            DurableApp.QueuedForTests,
            services: services => services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(3)),
            map: web => web.MapGet("/live", async (HttpContext http) =>
            {
                http.Response.ContentType = "text/event-stream";
                await http.Response.WriteAsync("data: open\n\n");
                await http.Response.Body.FlushAsync();
                streamOpen.TrySetResult();
                await Task.Delay(Timeout.Infinite, http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }));
        try
        {
            using var live = new HttpClient { BaseAddress = app.Client.BaseAddress };
            var liveRequest = live.GetAsync("/live", HttpCompletionOption.ResponseHeadersRead);
            await streamOpen.Task.WaitAsync(TimeSpan.FromSeconds(20));
            using (var response = await app.PostAsync(stripeEvent))
            {
                response.EnsureSuccessStatusCode();
            }

            await probe.EventHandlerStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
            (await app.GetEventAsync(eventId))!.State.Should().Be(WebhookEventState.Processing); // and the query is compiled
            await app.StopAsync(); // SIGTERM; app.Run() returns when this does, and the process ends

            var info = await app.GetEventAsync(eventId);
            info!.State.Should().Be(WebhookEventState.Failed,
                "the stopping worker hands its running event back (due at once) before the host's stop returns, not after the process is gone; it was {0} after {1} attempt(s)", info.State, info.Attempts);
            info.NextAttemptAt.Should().NotBeNull();
            probe.EventRuns.Should().BeEmpty();
            _ = liveRequest.ContinueWith(_ => { }, TaskScheduler.Default);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }
}
