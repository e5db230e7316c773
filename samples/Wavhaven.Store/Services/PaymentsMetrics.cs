using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Wavhaven.Payments.Diagnostics;

namespace Wavhaven.Store.Services;

/// <summary>
/// Listens to the library's meter (<c>Wavhaven.Payments</c>) and keeps running totals per instrument and tag
/// set, for the diagnostics page. A production app would export the same meter through OpenTelemetry.
/// </summary>
public sealed class PaymentsMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Instrument, string Tags), Total> _totals = new();

    public PaymentsMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PaymentsTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>A running total: how many measurements, and their sum (events for counters, seconds for durations).</summary>
    public sealed record Total(string Instrument, string Unit, string Tags, long Count, double Sum);

    public IReadOnlyList<Total> Snapshot() =>
        [.. _totals.Values.OrderBy(total => total.Instrument, StringComparer.Ordinal).ThenBy(total => total.Tags, StringComparer.Ordinal)];

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var parts = new List<string>(tags.Length);
        foreach (var (key, tagValue) in tags)
        {
            parts.Add(key + "=" + tagValue);
        }

        parts.Sort(StringComparer.Ordinal);
        var tagText = string.Join(", ", parts);
        _totals.AddOrUpdate(
            (instrument.Name, tagText),
            _ => new Total(instrument.Name, instrument.Unit ?? string.Empty, tagText, 1, value),
            (_, total) => total with { Count = total.Count + 1, Sum = total.Sum + value });
    }
}
