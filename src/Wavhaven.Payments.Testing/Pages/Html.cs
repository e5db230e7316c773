using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Wavhaven.Payments.Testing.Pages;

/// <summary>Plain server-rendered HTML for the hosted pages: no scripts, forms only.</summary>
internal static class Html
{
    public static string Encode(string? text) => WebUtility.HtmlEncode(text ?? string.Empty);

    public static string Document(string title, string body)
    {
        var html = new StringBuilder(2048);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
            .Append(Encode(title))
            .Append(" · Stripe emulator</title>\n<style>")
            .Append("body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1f36}")
            .Append("table{width:100%;border-collapse:collapse;margin:1rem 0}td,th{padding:.4rem;border-bottom:1px solid #e3e8ee;text-align:left}")
            .Append(".amount{text-align:right}.total{font-weight:bold}.error{color:#c0123c;font-weight:bold}.notice{color:#0a7a3b}")
            .Append("button{margin:.3rem .3rem .3rem 0;padding:.5rem 1rem;cursor:pointer}.badge{font-size:.8rem;color:#697386}")
            .Append("</style>\n</head>\n<body>\n<p class=\"badge\">Stripe emulator · test mode</p>\n")
            .Append(body)
            .Append("\n</body>\n</html>\n");
        return html.ToString();
    }

    public static async Task WriteAsync(HttpContext context, int statusCode, string title, string body)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(Document(title, body), context.RequestAborted).ConfigureAwait(false);
    }

    public static void SeeOther(HttpContext context, string location)
    {
        context.Response.StatusCode = StatusCodes.Status303SeeOther;

        // In its ASCII form: the API accepts a URL with non-ASCII characters (a success page at /merci?produit=café), and
        // Kestrel refuses such a header value, which answered 500 after the payment had gone through.
        context.Response.Headers.Location = Uri.TryCreate(location, UriKind.Absolute, out var uri) ? uri.AbsoluteUri : location;
    }

    /// <summary>A form field's value, or <see langword="null"/>.</summary>
    public static string? Field(IFormCollection form, string name) => form.TryGetValue(name, out var value) && value.ToString() is { Length: > 0 } text ? text : null;
}
