using System.Diagnostics;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// When the last request was handed to the handler below and when its answer came back: with it, the interleaved
/// checkout run splits each call into the time before the wire, on it, and after it (<c>--split</c>).
/// </summary>
internal sealed class WireTimes
{
    public long Sent { get; set; }

    public long Answered { get; set; }
}

/// <summary>A pass-through handler that notes its request's times in a <see cref="WireTimes"/>.</summary>
internal sealed class WireTimer(WireTimes times) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        times.Sent = Stopwatch.GetTimestamp();
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        times.Answered = Stopwatch.GetTimestamp();
        return response;
    }
}
