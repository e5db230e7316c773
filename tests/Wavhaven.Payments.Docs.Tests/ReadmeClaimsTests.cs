using System.Text.RegularExpressions;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Docs.Tests;

/// <summary>
/// Claims of the README (and of the packages' XML docs) that are lists of what the code does: a list that leaves
/// something out tells the reader it does not happen.
/// </summary>
public partial class ReadmeClaimsTests
{
    [Fact]
    public void Readme_WebhookEventsCounter_ListsEveryOutcomeTag()
    {
        // The counter is tagged with PaymentsTelemetry.OutcomeTag(result.Outcome): the snake_case name of each WebhookOutcome.
        // Besides those, a delivery whose caller went away (ProcessAsync throws OperationCanceledException) is "cancelled".
        var expected = Enum.GetNames<WebhookOutcome>().Select(name => SnakeCase().Replace(name, "$1_$2").ToLowerInvariant()).Append("cancelled").ToList();
        var readme = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "README.md"));
        var row = readme.Single(line => line.StartsWith("| `wavhaven.payments.webhook.events`", StringComparison.Ordinal));
        var listed = OutcomeList().Match(row).Groups["list"].Value.Split(',', StringSplitOptions.TrimEntries);

        listed.Should().BeEquivalentTo(expected, "a dashboard built from the README's table must know every outcome the counter reports ({0})", row);
    }

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex SnakeCase();

    [GeneratedRegex(@"`outcome` \((?<list>[^)]*)\)")]
    private static partial Regex OutcomeList();
}
