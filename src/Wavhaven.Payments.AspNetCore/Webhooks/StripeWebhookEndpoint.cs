using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.AspNetCore.Webhooks;

/// <summary>
/// The webhook endpoint's request delegate: reads the raw body (refusing bodies over the cap with 413),
/// hands it to <see cref="IWebhookProcessor"/> untouched, and answers with the result's status and a short
/// reason.
/// </summary>
internal static class StripeWebhookEndpoint
{
    private const int InitialBufferSize = 16 * 1024;

    public static async Task HandleAsync(HttpContext context)
    {
        var processor = context.RequestServices.GetRequiredService<IWebhookProcessor>();
        var maxBodySize = context.RequestServices.GetRequiredService<IOptions<StripePaymentsOptions>>().Value.WebhookMaxBodySize;
        var request = context.Request;
        string? signature = request.Headers[StripeWebhookSignature.HeaderName];

        if (string.IsNullOrEmpty(signature))
        {
            // Nothing in the body could be accepted: answered (and logged, and counted) as the processor answers a
            // missing signature, without waiting for a body that an anonymous caller need never send.
            var unsigned = await processor.ProcessAsync(ReadOnlyMemory<byte>.Empty, signature, context.RequestAborted).ConfigureAwait(false);
            await WriteAsync(context, unsigned.StatusCode, unsigned.Reason).ConfigureAwait(false);
            return;
        }

        if (request.ContentLength > maxBodySize)
        {
            await RefuseTooLargeAsync(context, processor).ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            if (request.ContentLength is not null)
            {
                sizeFeature.MaxRequestBodySize = maxBodySize + 1L;
            }
            else if (sizeFeature.MaxRequestBodySize < 2L * maxBodySize)
            {
                // A chunked body is held to the cap below, by its decoded bytes. Kestrel's count takes in the chunks' framing
                // (a proxy relaying the upload as it comes sends chunks of a few hundred bytes), so its limit, which only
                // bounds that framing here, must leave room for it: twice the cap holds chunks of 6 bytes or more.
                sizeFeature.MaxRequestBodySize = 2L * maxBodySize;
            }
        }

        ReadOnlyMemory<byte>? body;
        try
        {
            // A Stripe event (a few KB) is read straight into an array of its size. A larger declared length gets memory
            // only as its bytes arrive: a Content-Length costs the sender nothing, so it must not cost the server its size.
            body = request.ContentLength is { } length and <= InitialBufferSize
                ? await ReadDeclaredAsync(request.Body, (int)length, maxBodySize, context.RequestAborted).ConfigureAwait(false)
                : await ReadGrowingAsync(request.Body, maxBodySize, ReadOnlyMemory<byte>.Empty, context.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Kestrel's own cap (set above) stopped a body that lied about its length: answered below as too large.
            body = null;
        }
        catch (BadHttpRequestException exception)
        {
            // The body never came whole (too slow, or cut short): the sender's fault, not the app's.
            await TryWriteAsync(context, exception.StatusCode, "request body not received").ConfigureAwait(false);
            return;
        }
        catch (EndOfStreamException)
        {
            await TryWriteAsync(context, StatusCodes.Status400BadRequest, "body shorter than its Content-Length").ConfigureAwait(false);
            return;
        }
        catch (Exception exception) when (exception is IOException || context.RequestAborted.IsCancellationRequested)
        {
            // The sender went away mid-body (a reset connection): nobody is left to answer, and nothing was processed.
            return;
        }

        if (body is null)
        {
            if (request.ContentLength is null && (HttpProtocol.IsHttp11(request.Protocol) || HttpProtocol.IsHttp10(request.Protocol)))
            {
                // The rest of a chunked body is not worth draining for the next request on the connection.
                context.Response.Headers.Connection = "close";
            }

            await RefuseTooLargeAsync(context, processor).ConfigureAwait(false);
            return;
        }

        var result = await processor.ProcessAsync(body.Value, signature, context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, result.StatusCode, result.Reason).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads a body of known length into an array of that size (and one byte more, to see that the body ends there): the
    /// event handed to handlers keeps pointing at it, so it must not be a pooled buffer that the next request reuses. The
    /// Content-Length counts the bytes on the wire: a body that middleware rewrote (<c>UseRequestDecompression</c>) may
    /// go on past it, and is then read on as one of unknown length; <see langword="null"/> when it passes the cap.
    /// </summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadDeclaredAsync(Stream stream, int length, int maxBodySize, CancellationToken cancellationToken)
    {
        var body = new byte[length + 1];
        await stream.ReadExactlyAsync(body.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        return await stream.ReadAsync(body.AsMemory(length), cancellationToken).ConfigureAwait(false) == 0
            ? body.AsMemory(0, length)
            : await ReadGrowingAsync(stream, maxBodySize, body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads a body of unknown (or large) length, after the bytes already <paramref name="received"/>, through a pooled
    /// buffer that grows as bytes arrive, and copies it into an array of its own at the end; <see langword="null"/> when it
    /// passes the cap.
    /// </summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadGrowingAsync(Stream stream, int maxBodySize, ReadOnlyMemory<byte> received, CancellationToken cancellationToken)
    {
        if (received.Length > maxBodySize)
        {
            return null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(Math.Max(received.Length * 2, InitialBufferSize), maxBodySize + 1));
        try
        {
            received.CopyTo(buffer);
            var length = received.Length;
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBodySize + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return buffer.AsSpan(0, length).ToArray();
                }

                length += read;
                if (length > maxBodySize)
                {
                    return null;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Answers 413, and has the library's processor count the refusal as it counts one for the signature (a processor of
    /// the app's own counts nothing of the library's, for this delivery as for the others).
    /// </summary>
    private static Task RefuseTooLargeAsync(HttpContext context, IWebhookProcessor processor)
    {
        (processor as WebhookProcessor)?.RecordBodyTooLarge();
        return WriteAsync(context, StatusCodes.Status413PayloadTooLarge, WebhookProcessor.BodyTooLarge);
    }

    /// <summary>Answers unless the connection is gone already (a body that never came whole may have taken it along).</summary>
    private static async Task TryWriteAsync(HttpContext context, int statusCode, string reason)
    {
        try
        {
            await WriteAsync(context, statusCode, reason).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or InvalidOperationException)
        {
            // Nobody to tell.
        }
    }

    /// <summary>
    /// Answers with the reason as plain text, with its Content-Length (so Kestrel need not chunk the answer); the
    /// answers of a processed delivery are encoded once, not per request.
    /// </summary>
    private static Task WriteAsync(HttpContext context, int statusCode, string reason)
    {
        var bytes = reason switch
        {
            "processed" => Processed,
            "duplicate" => Duplicate,
            "ignored" => Ignored,
            "queued" => Queued,
            _ => Encoding.UTF8.GetBytes(reason),
        };
        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength = bytes.Length;
        return response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    private static readonly byte[] Processed = "processed"u8.ToArray();
    private static readonly byte[] Duplicate = "duplicate"u8.ToArray();
    private static readonly byte[] Ignored = "ignored"u8.ToArray();
    private static readonly byte[] Queued = "queued"u8.ToArray();
}
