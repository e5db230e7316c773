using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Testing.State;

/// <summary>
/// Everything the emulator knows, and the billing rules that change it. Not thread-safe by itself: every
/// caller holds <see cref="Gate"/>.
/// </summary>
internal sealed partial class EmulatorStore(TimeProvider timeProvider, TimeSpan clockOffset)
{
    private readonly Dictionary<string, Entity> _objects = new(StringComparer.Ordinal);
    private readonly List<EventRecord> _events = [];
    private TimeSpan _offset = clockOffset;
    private DateTimeOffset? _pinnedNow;
    private long _sequence;

    /// <summary>Gets the lock every reader and writer holds.</summary>
    public object Gate { get; } = new();

    /// <summary>Gets or sets the emulator's address, which the hosted pages' URLs start with.</summary>
    public Uri BaseUrl { get; set; } = new("http://127.0.0.1/");

    /// <summary>Gets or sets what receives each new event and the endpoints it goes to.</summary>
    public Action<EventRecord, IReadOnlyList<WebhookEndpoint>>? EventEmitted { get; set; }

    /// <summary>Gets the emulator's clock: the time provider's time plus every advance.</summary>
    public DateTimeOffset Now => _pinnedNow ?? timeProvider.GetUtcNow() + _offset;

    public IReadOnlyList<EventRecord> Events => _events;

    public T Add<T>(T entity)
        where T : Entity
    {
        entity.Sequence = ++_sequence;
        _objects.Add(entity.Id, entity);
        return entity;
    }

    public T? Find<T>(string id)
        where T : Entity =>
        _objects.TryGetValue(id, out var entity) ? entity as T : null;

    public Entity? FindAny(string id) => _objects.GetValueOrDefault(id);

    /// <summary>Finds an object or throws Stripe's 404 <c>resource_missing</c>.</summary>
    public T Get<T>(string id, string what, string param)
        where T : Entity =>
        Find<T>(id) ?? throw Api.ApiException.NoSuch(what, id, param);

    /// <summary>Gets every object of a kind, oldest first.</summary>
    public IEnumerable<T> All<T>()
        where T : Entity =>
        _objects.Values.OfType<T>().OrderBy(entity => entity.Sequence);

    /// <summary>Records an event with a snapshot of <paramref name="entity"/> and hands it to the webhook dispatcher.</summary>
    public EventRecord Emit(string type, Entity entity, RequestInfo request, JsonObject? previousAttributes = null) =>
        Emit(type, entity.ToJson(this), request, previousAttributes);

    public EventRecord Emit(string type, JsonObject dataObject, RequestInfo request, JsonObject? previousAttributes = null)
    {
        var endpoints = All<WebhookEndpoint>().Where(endpoint => endpoint.Receives(type)).ToList();
        var record = Add(new EventRecord(Ids.New("evt_"), Now, type, dataObject, previousAttributes, request, endpoints.Count));
        _events.Add(record);
        EventEmitted?.Invoke(record, endpoints);
        return record;
    }

    /// <summary>Runs <paramref name="action"/> with the clock stopped at <paramref name="time"/>.</summary>
    private void At(DateTimeOffset time, Action action)
    {
        _pinnedNow = time;
        try
        {
            action();
        }
        finally
        {
            _pinnedNow = null;
        }
    }

    /// <summary>Moves the clock forward, then runs everything that fell due, in time order.</summary>
    public void Advance(TimeSpan by)
    {
        _offset += by;
        ProcessDue();
    }

    /// <summary>
    /// Runs what is due by now, earliest first, each at its own time: checkout sessions expire, trials
    /// announce their end three days ahead, subscriptions renew or end at their period's end.
    /// </summary>
    public void ProcessDue()
    {
        var now = Now;
        for (var guard = 0; guard < 100_000; guard++)
        {
            var next = NextDue(now);
            if (next is null)
            {
                return;
            }

            At(next.Value.Due, next.Value.Run);
        }

        throw new InvalidOperationException("The emulator's clock advance did not settle: too many renewals at once.");
    }

    private (DateTimeOffset Due, Action Run)? NextDue(DateTimeOffset now)
    {
        (DateTimeOffset Due, Action Run)? next = null;
        void Consider(DateTimeOffset due, Action run)
        {
            if (due <= now && (next is null || due < next.Value.Due))
            {
                next = (due, run);
            }
        }

        foreach (var session in All<CheckoutSession>().Where(session => session.Status == "open"))
        {
            Consider(session.ExpiresAt, () => ExpireSession(session, RequestInfo.Automatic));
        }

        foreach (var subscription in All<Subscription>().Where(subscription => !subscription.IsEnded && subscription.Items.Count > 0))
        {
            if (subscription.Status == "trialing" && subscription.TrialEnd is { } trialEnd && !subscription.TrialWillEndSent)
            {
                var notice = trialEnd.AddDays(-3);
                Consider(notice < subscription.Created ? subscription.Created : notice, () =>
                {
                    subscription.TrialWillEndSent = true;
                    Emit("customer.subscription.trial_will_end", subscription, RequestInfo.Automatic);
                });
            }

            var periodEnd = subscription.CurrentPeriodEnd;
            if (!subscription.CancelAtPeriodEnd && subscription.CancelAt is { } cancelAt && cancelAt <= periodEnd)
            {
                Consider(cancelAt, () => EndAtPeriodEnd(subscription));
            }
            else
            {
                Consider(periodEnd, subscription.CancelAtPeriodEnd ? () => EndAtPeriodEnd(subscription) : () => Renew(subscription));
            }
        }

        return next;
    }
}

/// <summary>Webhook endpoints.</summary>
internal sealed partial class EmulatorStore
{
    public WebhookEndpoint AddWebhookEndpoint(Uri url, string? secret, IReadOnlyList<string>? enabledEvents = null, string? apiVersion = null, string? description = null, Dictionary<string, string>? metadata = null) =>
        Add(new WebhookEndpoint(Ids.New("we_"), Now, url, secret is null ? Ids.New("whsec_", 32)
            : string.IsNullOrWhiteSpace(secret) ? throw new ArgumentException("The webhook signing secret is empty or blank: nothing could verify its deliveries. Pass null to have one generated.", nameof(secret))
            : secret)
        {
            EnabledEvents = enabledEvents ?? ["*"],
            ApiVersion = apiVersion ?? Stripe.StripeApiVersion.Current,
            Description = description,
            Metadata = metadata ?? new(StringComparer.Ordinal),
        });
}
