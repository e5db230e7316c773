using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// A Kestrel server on 127.0.0.1 standing in for Stripe in the checkout benchmarks: it answers every
/// <c>POST /v1/checkout/sessions</c> with the same 3 KB open Checkout session (the payload's session), draining the
/// request's body as a real server would, and keeps the first body it receives.
/// </summary>
internal sealed class LoopbackStripe : IAsyncDisposable
{
    private readonly WebApplication _server;
    private byte[]? _firstBody;

    private LoopbackStripe(WebApplication server, byte[] answer)
    {
        _server = server;
        Answer = answer;
    }

    /// <summary>Gets the server's base address.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Gets the endpoint that creates Checkout sessions.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Gets the session the server answers with.</summary>
    public byte[] Answer { get; }

    /// <summary>Gets the body of the first request the server received, or <see langword="null"/>.</summary>
    public byte[]? FirstBody => Volatile.Read(ref _firstBody);

    /// <summary>The open session the checkout benchmarks receive: the payload's session before payment.</summary>
    public static byte[] OpenSession()
    {
        var session = JsonNode.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "payloads", "checkout.session.completed.json")))!["data"]!["object"]!.AsObject();
        session["status"] = "open";
        session["payment_status"] = "unpaid";
        return Encoding.UTF8.GetBytes(session.ToJsonString());
    }

    public static async Task<LoopbackStripe> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        var stripe = new LoopbackStripe(builder.Build(), OpenSession());
        stripe._server.MapPost("/v1/checkout/sessions", stripe.AnswerAsync);
        await stripe._server.StartAsync();
        stripe.Address = new Uri(stripe._server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        stripe.Endpoint = new Uri(stripe.Address, "/v1/checkout/sessions");
        return stripe;
    }

    /// <summary>
    /// What an app could write by hand: <paramref name="body"/> already encoded, the headers the library sends, and
    /// the answer read as bytes.
    /// </summary>
    public static async Task<byte[]> RawPostAsync(HttpClient client, Uri endpoint, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", CheckoutScenario.SecretKey);
        request.Headers.TryAddWithoutValidation("Stripe-Version", Stripe.StripeApiVersion.Current);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "wavhaven-checkout-" + Guid.NewGuid().ToString("N"));
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync();
        await _server.DisposeAsync();
    }

    private async Task AnswerAsync(HttpContext context)
    {
        if (FirstBody is null)
        {
            using var copy = new MemoryStream();
            await context.Request.Body.CopyToAsync(copy);
            Interlocked.CompareExchange(ref _firstBody, copy.ToArray(), null);
        }
        else
        {
            // Drain the body as a real server would, without keeping it.
            var buffer = new byte[4096];
            while (await context.Request.Body.ReadAsync(buffer) > 0)
            {
            }
        }

        context.Response.ContentType = "application/json";
        context.Response.ContentLength = Answer.Length;
        await context.Response.Body.WriteAsync(Answer);
    }
}
