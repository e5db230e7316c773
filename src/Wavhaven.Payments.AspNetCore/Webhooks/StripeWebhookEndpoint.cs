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

        if (request.ContentLength > maxBodySize)
        {
            await WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "body too large").ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = maxBodySize + 1L;
        }

        byte[]? body = null;
        try
        {
            body = request.ContentLength is { } length
                ? await ReadExactlyAsync(request.Body, (int)length, context.RequestAborted).ConfigureAwait(false)
                : await ReadChunkedAsync(request.Body, maxBodySize, context.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Kestrel's own cap (set above) stopped a body that lied about its length: answered below as too large.
        }
        catch (EndOfStreamException)
        {
            await WriteAsync(context, StatusCodes.Status400BadRequest, "body shorter than its Content-Length").ConfigureAwait(false);
            return;
        }

        if (body is null)
        {
            await WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "body too large").ConfigureAwait(false);
            return;
        }

        string? signature = request.Headers[StripeWebhookSignature.HeaderName];
        var result = await processor.ProcessAsync(body, signature, context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, result.StatusCode, result.Reason).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads a body of known length into an array of exactly that size: the event handed to handlers keeps
    /// pointing at it, so it must not be a pooled buffer that the next request reuses.
    /// </summary>
    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int length, CancellationToken cancellationToken)
    {
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
        return body;
    }

    /// <summary>Reads a body of unknown length through a pooled buffer; <see langword="null"/> when it passes the cap.</summary>
    private static async Task<byte[]?> ReadChunkedAsync(Stream stream, int maxBodySize, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialBufferSize, maxBodySize + 1));
        try
        {
            var length = 0;
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
