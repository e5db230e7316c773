using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.AspNetCore.Tests.Webhooks;

/// <summary>
/// Signed deliveries whose body reaches the endpoint in another framing than Stripe sent it (a proxy in between, or
/// middleware of the app): the body the signature covers is the same, so the delivery must be accepted.
/// </summary>
public class WebhookBodyFramingTests
{
    /// <summary>
    /// A proxy that relays the upload as it arrives sends it chunked, in chunks of a few hundred bytes. Kestrel counts the
    /// chunks' framing (size lines and CRLFs) against the request's body size limit, so a limit of the cap plus one byte
    /// refuses a body under the cap whose framing pushes it over.
    /// </summary>
    [Fact]
    public async Task ChunkedBodyUnderTheCap_IsProcessed_WhateverTheChunkSizes()
    {
        const int Cap = 8000;
        await using var app = await WebhookTestApp.StartAsync(options => options.WebhookMaxBodySize = Cap);
        var body = PaddedEvent("cs_test_chunked_under_cap", Cap - 100);

        using var socket = await RawHttp.ConnectAsync(app.Client.BaseAddress!);
        await RawHttp.SendAsync(socket, RawHttp.Request("POST", contentLength: null, Sign(body), "Transfer-Encoding: chunked\r\n"));
        await RawHttp.SendAsync(socket, Chunked(body, chunkSize: 100));
        var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));

        RawHttp.StatusOf(response).Should().Be(200, "the body is {0} bytes, under the cap of {1}: {2}", body.Length, Cap, response);
        response.Should().EndWith("processed");
        app.Recorder.Fulfilled.Should().ContainSingle();
    }

    /// <summary>
    /// <c>app.UseRequestDecompression()</c> (in the pipeline for the app's other endpoints) hands the endpoint the
    /// decompressed body, the bytes the sender signed, but leaves the request's Content-Length, the compressed length:
    /// the endpoint must read the body it is given, not the wire's count of bytes.
    /// </summary>
    [Fact]
    public async Task GzipBodyWithAContentLength_BehindRequestDecompression_IsProcessed()
    {
        await using var app = await WebhookTestApp.StartAsync(
            services: services => services.AddRequestDecompression(),
            configure: web => web.UseRequestDecompression());
        var body = Encoding.UTF8.GetBytes(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_gzip")).ToJsonString());
        var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            await gzip.WriteAsync(body);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/stripe") { Content = new ByteArrayContent(compressed.ToArray()) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Content.Headers.ContentEncoding.Add("gzip");
        request.Headers.TryAddWithoutValidation(StripeWebhookSignature.HeaderName, Sign(body));
        using var response = await app.Client.SendAsync(request);

        request.Content.Headers.ContentLength.Should().BeLessThan(body.Length);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        (await response.Content.ReadAsStringAsync()).Should().Be("processed");
        app.Recorder.Fulfilled.Should().ContainSingle().Which.SessionId.Should().Be("cs_test_gzip");
    }

    private static string Sign(byte[] body) => StripeWebhookSignature.CreateHeader(body, WebhookTestApp.Secret, DateTimeOffset.UtcNow);

    /// <summary>A signed-able event of exactly <paramref name="size"/> bytes: whitespace after its opening brace.</summary>
    private static byte[] PaddedEvent(string sessionId, int size)
    {
        var json = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession(sessionId)).ToJsonString();
        return Encoding.UTF8.GetBytes("{" + new string(' ', size - Encoding.UTF8.GetByteCount(json)) + json[1..]);
    }

    private static byte[] Chunked(byte[] body, int chunkSize)
    {
        var framed = new MemoryStream();
        for (var offset = 0; offset < body.Length; offset += chunkSize)
        {
            var length = Math.Min(chunkSize, body.Length - offset);
            framed.Write(Encoding.ASCII.GetBytes(length.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "\r\n"));
            framed.Write(body, offset, length);
            framed.Write("\r\n"u8);
        }

        framed.Write("0\r\n\r\n"u8);
        return framed.ToArray();
    }
}
