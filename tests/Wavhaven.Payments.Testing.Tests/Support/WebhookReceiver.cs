using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Wavhaven.Payments.Testing.Tests.Support;

/// <summary>One webhook as the receiver got it: raw body bytes and signature header.</summary>
public sealed record ReceivedWebhook(byte[] Body, string? Signature, string? ContentType, int AnsweredWith)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);

    public System.Text.Json.Nodes.JsonObject Json => System.Text.Json.Nodes.JsonNode.Parse(Body)!.AsObject();

    public string Type => (string)Json["type"]!;
}

/// <summary>A real Kestrel endpoint on loopback that records webhooks and answers with a scripted status.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    private int _count;

    private WebhookReceiver(WebApplication app, Func<int, int> status)
    {
        _app = app;
        app.Run(async context =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var answer = status(Interlocked.Increment(ref _count));
            _received.Enqueue(new ReceivedWebhook(buffer.ToArray(), context.Request.Headers["Stripe-Signature"].ToString(), context.Request.ContentType, answer));
            context.Response.StatusCode = answer;
        });
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>Every request received, in order, whatever it was answered with.</summary>
    public IReadOnlyList<ReceivedWebhook> Received => [.. _received];

    /// <summary>The requests that were answered 2xx.</summary>
    public IReadOnlyList<ReceivedWebhook> Accepted => [.. _received.Where(webhook => webhook.AnsweredWith is >= 200 and < 300)];

    /// <param name="status">The status to answer the n-th request (from 1) with; 200 when null.</param>
    public static async Task<WebhookReceiver> StartAsync(Func<int, int>? status = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var receiver = new WebhookReceiver(builder.Build(), status ?? (_ => 200));
        await receiver._app.StartAsync();
        var address = receiver._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = new Uri(address.TrimEnd('/') + "/webhooks/stripe");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
