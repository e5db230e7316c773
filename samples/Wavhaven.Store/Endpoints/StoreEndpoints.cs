using System.Buffers.Binary;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;
using Wavhaven.Store.Data;
using Wavhaven.Store.Services;

namespace Wavhaven.Store.Endpoints;

/// <summary>The store's endpoints that are not pages: checking out an existing order, and downloads.</summary>
public static class StoreEndpoints
{
    public static IEndpointRouteBuilder MapStoreEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/orders/{reference}/checkout", CheckoutOrderAsync);
        endpoints.MapGet("/download/{token}", DownloadAsync);
        return endpoints;
    }

    /// <summary>
    /// Opens a Checkout session for an order, addressed by its public reference (never its database id); 404 when there
    /// is no such order or it is another user's, 409 unless the order is CREATED.
    /// </summary>
    /// <remarks>
    /// The POST comes from a form on the store's pages, with their antiforgery token; a form on another site, posted with
    /// the buyer's cookies, has none and is refused before anything is opened. (Pages check their tokens themselves; an
    /// endpoint that binds no form must ask.)
    /// </remarks>
    private static async Task<IResult> CheckoutOrderAsync(string reference, HttpContext context, OrderCheckout orders, UserManager<StoreUser> users, IAntiforgery antiforgery, CancellationToken cancellationToken)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Results.Problem("The form's antiforgery token is missing or invalid: reload the page and try again.", statusCode: StatusCodes.Status400BadRequest);
        }

        var user = await users.GetUserAsync(context.User);
        try
        {
            var url = await orders.StartAsync(reference, user, SiteUrls.BaseOf(context.Request), cancellationToken);
            return Results.Redirect(url.ToString());
        }
        catch (OrderNotCheckoutableException exception)
        {
            return Results.Problem(exception.Message, statusCode: StatusCodes.Status409Conflict, title: "The order cannot be checked out");
        }
        catch (KeyNotFoundException exception)
        {
            return Results.Problem(exception.Message, statusCode: StatusCodes.Status404NotFound);
        }
    }

    /// <summary>Serves a licensed beat for a signed, unexpired link.</summary>
    private static async Task<IResult> DownloadAsync(string token, DownloadLinks links, StoreDbContext db, CancellationToken cancellationToken)
    {
        switch (links.Read(token, out var licenseId))
        {
            case DownloadLinkStatus.Invalid:
                return Results.Text("This download link is not valid.", statusCode: StatusCodes.Status400BadRequest);
            case DownloadLinkStatus.Expired:
                return Results.Text("This download link has expired. Sign in to download from your account, or contact us for a new link.", statusCode: StatusCodes.Status410Gone);
        }

        var license = await db.Licenses.FindAsync([licenseId], cancellationToken);
        if (license is null)
        {
            return Results.Text("This download link is not valid.", statusCode: StatusCodes.Status400BadRequest);
        }

        return Results.File(SilentWav(seconds: 1), "audio/wav", license.BeatId + ".wav");
    }

    /// <summary>A short silent WAV file stands in for the beat.</summary>
    private static byte[] SilentWav(int seconds)
    {
        const int sampleRate = 8000;
        var dataLength = sampleRate * seconds;
        var wav = new byte[44 + dataLength];
        "RIFF"u8.CopyTo(wav);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(4), 36 + dataLength);
        "WAVEfmt "u8.CopyTo(wav.AsSpan(8));
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(16), 16);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(20), 1);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(22), 1);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(24), sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(28), sampleRate);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(32), 1);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(34), 8);
        "data"u8.CopyTo(wav.AsSpan(36));
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(40), dataLength);
        wav.AsSpan(44).Fill(128);
        return wav;
    }
}
