using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.AspNetCore.Tests.Webhooks;

/// <summary>Deliveries that misbehave at the HTTP level (raw sockets against Kestrel on loopback), before any signature is checked.</summary>
public class WebhookTransportAbuseTests
{
    private const int MiB = 1024 * 1024;

    [Theory]
    [InlineData(null)]
    [InlineData("t=1700000000,v1=0000000000000000000000000000000000000000000000000000000000000000")]
    public async Task RequestHeadsWithoutTheirBodies_DoNotMakeTheEndpointHoldTheDeclaredLengthInMemory(string? signature)
    {
        // Default cap (1 MiB). Without a Stripe-Signature header nothing could ever be accepted; with one, only the body
        // can tell, and it never comes.
        await using var app = await WebhookTestApp.StartAsync();
        const int Clients = 64;
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < Clients; i++)
            {
                var socket = await RawHttp.ConnectAsync(app.Client.BaseAddress!);
                sockets.Add(socket);
                await RawHttp.SendAsync(socket, RawHttp.Request("POST", MiB, signature));
            }

            await WaitUntilAsync(() => app.Logs.Lines.Count(l => l.EventName == "ExecutingEndpoint" && l.Message.Contains("Stripe webhook", StringComparison.Ordinal)) >= Clients);
            await Task.Delay(300);
            var held = GC.GetTotalMemory(forceFullCollection: true) - before;

            held.Should().BeLessThan(16L * MiB, "{0} clients sent ~200 bytes of request head each and not one body byte", Clients);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    [Theory]
    [InlineData("aborted mid-body")]
    [InlineData("stalled mid-body")]
    public async Task DeliveryThatNeverFinishesItsBody_IsNotLoggedAsAnUnhandledApplicationError(string delivery)
    {
        await using var app = await WebhookTestApp.StartAsync(services: services =>
            services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(240, TimeSpan.FromSeconds(2))));
        var body = Encoding.UTF8.GetBytes(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_transport")).ToJsonString());
        var socket = await RawHttp.ConnectAsync(app.Client.BaseAddress!);
        await RawHttp.SendAsync(socket, RawHttp.Request("POST", body.Length, StripeWebhookSignature.CreateHeader(body, WebhookTestApp.Secret, DateTimeOffset.UtcNow)));
        await RawHttp.SendAsync(socket, body[..(body.Length / 2)]);
        await WaitUntilAsync(() => app.Logs.Lines.Any(l => l.EventName == "ExecutingEndpoint"));
        if (delivery == "aborted mid-body")
        {
            socket.LingerState = new LingerOption(true, 0); // RST, as a dropped connection
            socket.Close();
        }

        await WaitUntilAsync(() => app.Logs.Lines.Any(l => l.Message.StartsWith("Request finished", StringComparison.Ordinal)));
        await Task.Delay(300);
        socket.Dispose();

        app.Recorder.Fulfilled.Should().BeEmpty();
        // Kestrel itself logs a reset mid-body at Error when it drains the body afterwards (its reader is left "in
        // progress": dotnet/aspnetcore#17840, open); no app can avoid that line, so it is not the endpoint's to answer for.
        app.Logs.Lines.Where(l => l.Level >= LogLevel.Error && l.EventName != "RequestBodyDrainBodyReaderInvalidState")
            .Select(l => $"{l.Category} {l.EventName}: {l.Message} ({l.Exception?.GetType().Name}: {l.Exception?.Message})")
            .Should().BeEmpty("a client that drops or stalls its upload is not a fault of the app: any anonymous caller can do it at will");
    }

    /// <summary>
    /// The sender drops the connection while the handler runs (Stripe gave up waiting, or a proxy's timeout): the handler
    /// is cancelled through its token. That is neither a handler failure nor an unhandled error, and the redelivery runs
    /// the handler at once.
    /// </summary>
    [Fact]
    public async Task SenderThatLeavesWhileTheHandlerRuns_IsNotLoggedAsAnError_AndTheRedeliveryRunsTheHandler()
    {
        await using var app = await WebhookTestApp.StartAsync();
        app.Recorder.FulfillmentDelay = TimeSpan.FromSeconds(30); // the handler awaits with the token it is given
        var body = Encoding.UTF8.GetBytes(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_left")).ToJsonString());
        var socket = await RawHttp.ConnectAsync(app.Client.BaseAddress!);
        await RawHttp.SendAsync(socket, RawHttp.Request("POST", body.Length, StripeWebhookSignature.CreateHeader(body, WebhookTestApp.Secret, DateTimeOffset.UtcNow)));
        await RawHttp.SendAsync(socket, body);
        await app.Recorder.FulfillmentWaiting.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the handler runs: drop the connection now
        socket.LingerState = new LingerOption(true, 0); // RST, as a dropped connection
        socket.Close();
        await WaitUntilAsync(() => app.Logs.Lines.Any(l => l.Message.StartsWith("Request finished", StringComparison.Ordinal)));
        await Task.Delay(300);
        socket.Dispose();

        app.Logs.Lines.Where(l => l.Level >= LogLevel.Error)
            .Select(l => $"{l.Category} {l.EventName}: {l.Message} ({l.Exception?.GetType().Name}: {l.Exception?.Message})")
            .Should().BeEmpty("a sender that goes away is not a fault of the app or of its handler");
        app.Recorder.FulfillmentDelay = TimeSpan.Zero;
        using var redelivery = await app.PostAsync(body);
        (await redelivery.Content.ReadAsStringAsync()).Should().Be("processed");
        app.Recorder.Fulfilled.Should().ContainSingle();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition never held.");
            }

            await Task.Delay(20);
        }
    }
}
