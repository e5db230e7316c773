using System.Net;
using System.Text.RegularExpressions;

namespace Wavhaven.Payments.Testing.Tests.Support;

/// <summary>Reads the forms of a server-rendered page and presses their buttons, as a browser would.</summary>
public static partial class HtmlForms
{
    public sealed record Form(string Action, string Button, IReadOnlyList<KeyValuePair<string, string>> Fields);

    public static IReadOnlyList<Form> Parse(string html) =>
        [.. FormPattern().Matches(html).Select(match =>
        {
            var inner = match.Groups["inner"].Value;
            var fields = HiddenPattern().Matches(inner)
                .Select(input => new KeyValuePair<string, string>(WebUtility.HtmlDecode(input.Groups["name"].Value), WebUtility.HtmlDecode(input.Groups["value"].Value)))
                .ToList();
            var button = ButtonPattern().Match(inner);
            return new Form(WebUtility.HtmlDecode(match.Groups["action"].Value), WebUtility.HtmlDecode(button.Groups["label"].Value), fields);
        })];

    /// <summary>Loads <paramref name="page"/>, submits the form whose button reads <paramref name="button"/>, and returns the answer.</summary>
    public static async Task<HttpResponseMessage> PressAsync(HttpClient client, Uri page, string button)
    {
        var html = await client.GetStringAsync(page);
        var form = Parse(html).FirstOrDefault(candidate => candidate.Button == button)
            ?? throw new InvalidOperationException($"No button '{button}' on {page}. Buttons: {string.Join(", ", Parse(html).Select(f => f.Button))}");
        using var content = new FormUrlEncodedContent(form.Fields);
        return await client.PostAsync(new Uri(page, form.Action), content);
    }

    [GeneratedRegex("<form method=\"post\" action=\"(?<action>[^\"]*)\">(?<inner>.*?)</form>", RegexOptions.Singleline)]
    private static partial Regex FormPattern();

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]*)\" value=\"(?<value>[^\"]*)\">")]
    private static partial Regex HiddenPattern();

    [GeneratedRegex("<button type=\"submit\"[^>]*>(?<label>[^<]*)</button>")]
    private static partial Regex ButtonPattern();
}
