using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Customers;

/// <summary>
/// The lookups of new customers in flight in this process, shared by every scope: one lookup per user at a
/// time, the others wait for its answer.
/// </summary>
internal sealed class CustomerLookups
{
    public ConcurrentDictionary<CustomerKey, Lazy<Task<string>>> InFlight { get; } = new();
}

/// <summary>Store, then Stripe search, then create; the result is saved to the store.</summary>
internal sealed partial class CustomerResolver(
    IStripeClient stripe,
    ICustomerStore store,
    CustomerLookups lookups,
    IServiceScopeFactory scopes,
    ILogger<CustomerResolver> logger) : ICustomerResolver
{
    private readonly ConcurrentDictionary<CustomerKey, Lazy<Task<string>>> _inFlight = lookups.InFlight;

    public async Task<string?> FindCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default)
    {
        Validate(key);
        var stored = await store.GetCustomerIdAsync(key, cancellationToken).ConfigureAwait(false);
        if (stored is not null)
        {
            return stored;
        }

        var found = await SearchAsync(key, cancellationToken).ConfigureAwait(false);
        if (found is not null)
        {
            await store.SetCustomerIdAsync(key, found, cancellationToken).ConfigureAwait(false);
        }

        return found;
    }

    public async Task<string> GetOrCreateCustomerIdAsync(CustomerKey key, string? email, string? name, CancellationToken cancellationToken = default)
    {
        Validate(key);
        if (!StripeText.IsWellFormed(email))
        {
            throw new ArgumentException($"The email {StripeText.IllFormedProblem}", nameof(email));
        }

        if (email is not null && !CheckoutService.IsEmail(email))
        {
            // Checkout's rule (Buyer.Email), and the update's: refused before anything is sent, not by Stripe after a search.
            throw new ArgumentException("The email is not a valid email address: pass one address, such as jane@example.com, or null to create the customer without one.", nameof(email));
        }

        if (!StripeText.IsWellFormed(name))
        {
            throw new ArgumentException($"The name {StripeText.IllFormedProblem}", nameof(name));
        }

        var stored = await store.GetCustomerIdAsync(key, cancellationToken).ConfigureAwait(false);
        if (stored is not null)
        {
            return stored;
        }

        // The shared lookup takes no caller's token (below), so a caller that has given up already must not start one.
        cancellationToken.ThrowIfCancellationRequested();

        // One lookup per user at a time in this process; the others wait for its answer. The shared work
        // does not take any one caller's token, so that a caller giving up does not fail the others.
        var lookup = _inFlight.GetOrAdd(key, k => new Lazy<Task<string>>(() => ResolveOnceAsync(k, email, name)));
        return await lookup.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> UpdateCustomerAsync(CustomerKey key, string? email, string? name, CancellationToken cancellationToken = default)
    {
        Validate(key);
        if (email is null && name is null)
        {
            throw new ArgumentException("Nothing to update: pass the user's new email, their new name, or both.", nameof(email));
        }

        if (email is not null && !CheckoutService.IsEmail(email))
        {
            throw new ArgumentException("The email is not a valid email address: pass one address, such as jane@example.com, or null to leave the customer's email as it is.", nameof(email));
        }

        if (name is not null && string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("The name is blank: pass the user's name, or null to leave the customer's name as it is.", nameof(name));
        }

        if (!StripeText.IsWellFormed(name))
        {
            throw new ArgumentException($"The name {StripeText.IllFormedProblem}", nameof(name));
        }

        // A first checkout of the user may be creating the customer right now, with the email it was given: update that one.
        string? customerId = null;
        if (_inFlight.TryGetValue(key, out var creation))
        {
            try
            {
                customerId = await creation.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (StripeException)
            {
                // That checkout failed; the store and search tell whether the user has a customer all the same.
            }
        }

        customerId ??= await FindCustomerIdAsync(key, cancellationToken).ConfigureAwait(false);
        if (customerId is null)
        {
            return false;
        }

        var parameters = new StripeForm();
        if (email is not null)
        {
            parameters["email"] = email;
        }

        if (name is not null)
        {
            parameters["name"] = name;
        }

        try
        {
            await stripe.UpdateCustomerAsync(customerId, parameters, IdempotencyKeys.New("wavhaven-customer-update-"), cancellationToken).ConfigureAwait(false);
        }
        catch (StripeApiException exception) when (exception is { StatusCode: 404, Code: "resource_missing" })
        {
            // As at checkout, a customer Stripe no longer has is not an error of the app's: the user's next checkout replaces
            // it (ReplaceMissingCustomerAsync), created with the email that checkout passes. Creating one here would make a
            // customer for a user who may never buy again.
            Log.UpdatedCustomerMissing(logger, customerId);
            return false;
        }

        Log.CustomerUpdated(logger, customerId);
        return true;
    }

    public async Task<int> ForgetCustomerAsync(CustomerKey key, CancellationToken cancellationToken = default)
    {
        Validate(key);

        // A first checkout of the user may be creating the customer right now: let it finish, then forget that one too.
        if (_inFlight.TryGetValue(key, out var creation))
        {
            try
            {
                await creation.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (StripeException)
            {
                // That checkout failed; the store and search tell which customers the user has all the same.
            }
        }

        var customerIds = new HashSet<string>(StringComparer.Ordinal);
        if (await store.GetCustomerIdAsync(key, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            customerIds.Add(stored);
        }

        foreach (var found in Matches(key, await SearchAllAsync(key, cancellationToken).ConfigureAwait(false) ?? []))
        {
            customerIds.Add(found.Id);
        }

        var parameters = new StripeForm
        {
            // An empty value unsets a metadata key: search no longer finds the customer by the user id.
            ["metadata"] = new Dictionary<string, string>(StringComparer.Ordinal) { [MetadataKeys.UserId] = string.Empty, [MetadataKeys.TenantId] = string.Empty },
        };
        var detached = 0;
        foreach (var customerId in customerIds)
        {
            try
            {
                await stripe.UpdateCustomerAsync(customerId, parameters, IdempotencyKeys.New("wavhaven-customer-forget-"), cancellationToken).ConfigureAwait(false);
                detached++;
            }
            catch (StripeApiException exception) when (exception is { StatusCode: 404, Code: "resource_missing" })
            {
                // Deleted in Stripe already (or of the other mode): nothing of it names the user any more.
            }
        }

        await store.RemoveCustomerIdAsync(key, cancellationToken).ConfigureAwait(false);
        Log.CustomerForgotten(logger, detached);
        return detached;
    }

    /// <summary>
    /// The shared work, in a scope of its own: it outlives the caller that started it, whose scope (and with it a scoped
    /// store's <c>DbContext</c>) may be disposed while it runs, or still be in use by that caller's request.
    /// </summary>
    private async Task<string> ResolveOnceAsync(CustomerKey key, string? email, string? name)
    {
        var scope = scopes.CreateAsyncScope();
        try
        {
            return await ResolveAsync(scope.ServiceProvider.GetRequiredService<ICustomerStore>(), key, email, name).ConfigureAwait(false);
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<string> ResolveAsync(ICustomerStore sharedStore, CustomerKey key, string? email, string? name)
    {
        // A caller can read the store before another caller's lookup saves the customer, yet join the map after
        // that lookup has left it. Search may not see a customer created seconds ago, so ask the store again.
        var stored = await sharedStore.GetCustomerIdAsync(key, CancellationToken.None).ConfigureAwait(false);
        if (stored is not null)
        {
            return stored;
        }

        var customerId = await SearchAsync(key, CancellationToken.None).ConfigureAwait(false);
        if (customerId is null)
        {
            customerId = await CreateAsync(key, email, NewCustomerParameters(key, email, name)).ConfigureAwait(false);
        }

        await sharedStore.SetCustomerIdAsync(key, customerId, CancellationToken.None).ConfigureAwait(false);
        return customerId;
    }

    /// <summary>
    /// Replaces the user's stored customer once Stripe has said it has no such customer (deleted in the dashboard, test
    /// data deleted, or a customer of the other mode): search, which never returns a deleted customer, else create
    /// under a key of the user and the missing customer (the user's key may still answer with the customer that is
    /// gone), so that concurrent replacements of it (two tabs, a double click, another instance), which search cannot
    /// tell of one another's new customer, get one customer; after a 5xx or a refusal of that key, it looks again as a
    /// first creation does (the failed creation may have made the customer) and else creates under a key of this
    /// attempt's own. The store then names the new one.
    /// </summary>
    internal async Task<string> ReplaceMissingCustomerAsync(CustomerKey key, string missingCustomerId, string? email, string? name, CancellationToken cancellationToken)
    {
        Log.CustomerMissing(logger, missingCustomerId);
        var customerId = await SearchAsync(key, cancellationToken).ConfigureAwait(false);
        if (customerId is null || customerId == missingCustomerId)
        {
            var parameters = NewCustomerParameters(key, email, name);
            try
            {
                customerId = (await stripe.CreateCustomerAsync(parameters, ReplacementKeyFor(key, missingCustomerId), cancellationToken).ConfigureAwait(false)).Id;
                Log.CustomerCreated(logger, customerId);
            }
            catch (StripeApiException exception) when (exception.StatusCode >= 500 || exception.Type == "idempotency_error")
            {
                Log.CreationFailed(logger, exception.StatusCode, exception.RequestId);
                customerId = await FindOrCreateAfterFailureAsync(key, email, parameters, cancellationToken).ConfigureAwait(false);
            }
        }

        await store.SetCustomerIdAsync(key, customerId, cancellationToken).ConfigureAwait(false);
        return customerId;
    }

    private static StripeForm NewCustomerParameters(CustomerKey key, string? email, string? name)
    {
        var parameters = new StripeForm();
        if (email is not null)
        {
            parameters["email"] = email;
        }

        if (name is not null)
        {
            parameters["name"] = name;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [MetadataKeys.UserId] = key.UserId };
        if (key.TenantId is not null)
        {
            metadata[MetadataKeys.TenantId] = key.TenantId;
        }

        parameters["metadata"] = metadata;
        return parameters;
    }

    /// <summary>
    /// Creates the user's customer under the user's key. Stripe keeps a 5xx answer under its idempotency key too, and
    /// answers every later request with that key with it for 24 hours: with a key per user, one failure of Stripe's would
    /// fail that user's every checkout until then. So after a 5xx (the client's retries spent) it looks again, since the
    /// failed creation may have made the customer, and else creates under a key of this attempt's own.
    /// </summary>
    private async Task<string> CreateAsync(CustomerKey key, string? email, StripeForm parameters)
    {
        var userKey = IdempotencyKeyFor(key);
        StripeCustomer customer;
        try
        {
            customer = await stripe.CreateCustomerAsync(parameters, userKey, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StripeApiException exception) when (exception.StatusCode >= 500 || exception.Type == "idempotency_error")
        {
            // An idempotency_error: the user's key made a customer with other parameters within Stripe's 24 hours, which
            // search no longer finds for the user (forgotten for an erasure, or deleted): the id may be another person's now.
            Log.CreationFailed(logger, exception.StatusCode, exception.RequestId);
            return await FindOrCreateAfterFailureAsync(key, email, parameters, CancellationToken.None).ConfigureAwait(false);
        }

        var customerId = customer.Id;
        // A replay is the key's first answer (Stripe keeps it for 24 hours), the customer as it was then: the same parameters
        // (no email, no name) meet no mismatch, yet that customer may have been forgotten since (ForgetCustomerAsync: an id
        // handed out again) or deleted. Another checkout of the user made it a moment ago in the common case.
        if (customer.Replayed && !await StillTheUsersAsync(key, customerId).ConfigureAwait(false))
        {
            customerId = await CreateUnderOwnKeyAsync(key, parameters, CancellationToken.None).ConfigureAwait(false);
        }

        Log.CustomerCreated(logger, customerId);
        return customerId;
    }

    /// <summary>Whether Stripe still has the customer and its metadata still gives it to the user.</summary>
    private async Task<bool> StillTheUsersAsync(CustomerKey key, string customerId)
    {
        try
        {
            return Match(key, [await stripe.GetCustomerAsync(customerId, null, CancellationToken.None).ConfigureAwait(false)]) is not null;
        }
        catch (StripeApiException exception) when (exception is { StatusCode: 404, Code: "resource_missing" })
        {
            return false;
        }
    }

    /// <summary>
    /// After a creation under a shared key failed (a 5xx, which may have made the customer all the same, and which Stripe
    /// keeps under the key), looks for the user's customer again, else creates one under a key of this attempt's own.
    /// Search is eventually consistent and will not see a customer made a moment ago; the list by email is not.
    /// </summary>
    private async Task<string> FindOrCreateAfterFailureAsync(CustomerKey key, string? email, StripeForm parameters, CancellationToken cancellationToken)
    {
        if (email is not null
            && Match(key, (await stripe.ListCustomersByEmailAsync(email, cancellationToken).ConfigureAwait(false)).Data) is { } listed)
        {
            return listed.Id;
        }

        if (await SearchAsync(key, cancellationToken).ConfigureAwait(false) is { } found)
        {
            return found;
        }

        var customerId = await CreateUnderOwnKeyAsync(key, parameters, cancellationToken).ConfigureAwait(false);
        Log.CustomerCreated(logger, customerId);
        return customerId;
    }

    /// <summary>
    /// Creates the user's customer under a key of this attempt's own, for when the user's key cannot serve: Stripe keeps
    /// its answer under a key for 24 hours, a 5xx or a customer since deleted.
    /// </summary>
    private async Task<string> CreateUnderOwnKeyAsync(CustomerKey key, StripeForm parameters, CancellationToken cancellationToken) =>
        (await stripe.CreateCustomerAsync(parameters, IdempotencyKeys.New(IdempotencyKeyFor(key) + "-"), cancellationToken).ConfigureAwait(false)).Id;

    /// <summary>Pages of 100 read after the first before the search stops: 1,010 customers of one user id, a checkout's wait bounded.</summary>
    private const int MaxSearchPages = 10;

    private async Task<string?> SearchAsync(CustomerKey key, CancellationToken cancellationToken)
    {
        var match = Match(key, await SearchAllAsync(key, cancellationToken).ConfigureAwait(false) ?? []);
        if (match is not null)
        {
            Log.CustomerFound(logger, match.Id);
        }

        return match?.Id;
    }

    /// <summary>The customers Stripe's search finds by the user id (and tenant), or <see langword="null"/> where Stripe refuses search.</summary>
    private async Task<List<StripeCustomer>?> SearchAllAsync(CustomerKey key, CancellationToken cancellationToken)
    {
        var query = $"metadata['{MetadataKeys.UserId}']:'{EscapeSearchValue(key.UserId)}'";
        if (key.TenantId is not null)
        {
            query += $" AND metadata['{MetadataKeys.TenantId}']:'{EscapeSearchValue(key.TenantId)}'";
        }

        // Every page, up to a bound: without a tenant the query names only the user id, so it also finds every tenant's user
        // of that id (tenants that count their users from 1 all have a "42"), and the first page need not hold the user's own.
        var found = new List<StripeCustomer>();
        try
        {
            string? page = null;
            var pages = 0;
            do
            {
                var result = await stripe.SearchCustomersAsync(query, page, cancellationToken).ConfigureAwait(false);
                found.AddRange(result.Data);
                page = result.HasMore ? result.NextPage : null;
                if (page is not null && ++pages > MaxSearchPages)
                {
                    Log.SearchTruncated(logger, found.Count);
                    break;
                }
            }
            while (page is not null);
        }
        catch (StripeApiException exception) when (exception.StatusCode is >= 400 and < 500 and not 401 and not 429)
        {
            // "Search functionality is not available to merchants in India": the user's idempotency key still keeps
            // concurrent and repeated creations to one customer.
            Log.SearchUnavailable(logger, exception.StatusCode, exception.Code, exception.RequestId);
            return null;
        }

        return found;
    }

    /// <summary>The user's oldest live customer among <paramref name="customers"/>, by the metadata the library gives it.</summary>
    private static StripeCustomer? Match(CustomerKey key, IEnumerable<StripeCustomer> customers) => Matches(key, customers)
        .OrderBy(customer => customer.Created ?? DateTimeOffset.MaxValue)
        .FirstOrDefault();

    /// <summary>Every live customer among <paramref name="customers"/> that the library's metadata gives to the user.</summary>
    private static IEnumerable<StripeCustomer> Matches(CustomerKey key, IEnumerable<StripeCustomer> customers) => customers
        .Where(customer => !customer.Deleted
            && customer.Metadata.TryGetValue(MetadataKeys.UserId, out var userId) && userId == key.UserId
            && (customer.Metadata.TryGetValue(MetadataKeys.TenantId, out var tenantId) ? tenantId : null) == key.TenantId);

    /// <summary>
    /// The same key for the same user, everywhere: Stripe answers a repeated creation (from a retry, another
    /// request or another instance, within 24 hours) with the customer the first one made. And a different key for a
    /// different user: what is hashed names the tenant by its length first, so no tenant and user id pair can spell
    /// another's ("acme" with "x\ny" against "acme\nx" with "y"). Without a tenant it is a line break and the user id,
    /// as it always was; with one it starts with a digit, which no such string does.
    /// </summary>
    internal static string IdempotencyKeyFor(CustomerKey key)
    {
        var identity = key.TenantId is { } tenant
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{tenant.Length}:{tenant}\n{key.UserId}")
            : "\n" + key.UserId;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(identity));
        return "wavhaven-customer-" + Convert.ToHexStringLower(hash, 0, 16);
    }

    /// <summary>The key of the creation that replaces <paramref name="missingCustomerId"/>: the same for every replacement of it.</summary>
    internal static string ReplacementKeyFor(CustomerKey key, string missingCustomerId) =>
        IdempotencyKeyFor(key) + "-replacing-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(missingCustomerId)), 0, 16);

    /// <summary>Escapes a value for a single-quoted Stripe search clause.</summary>
    internal static string EscapeSearchValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal);

    private static void Validate(CustomerKey key)
    {
        if (string.IsNullOrWhiteSpace(key.UserId))
        {
            throw new ArgumentException("The customer key has no user id.", nameof(key));
        }

        if (key.UserId.Length > MetadataRules.MaxUserIdLength)
        {
            throw new ArgumentException($"The customer key's user id is {key.UserId.Length} characters long; at most {MetadataRules.MaxUserIdLength} are allowed (it keys the durable customer map).", nameof(key));
        }

        if (!StripeText.IsWellFormed(key.UserId))
        {
            throw new ArgumentException($"The customer key's user id {StripeText.IllFormedProblem}", nameof(key));
        }

        if (MetadataRules.TenantProblem(key.TenantId) is { } tenantProblem)
        {
            throw new ArgumentException(tenantProblem, nameof(key));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, EventName = "CustomerFound", Level = LogLevel.Debug, Message = "Found Stripe customer {CustomerId} by search")]
        public static partial void CustomerFound(ILogger logger, string customerId);

        [LoggerMessage(EventId = 201, EventName = "CustomerCreated", Level = LogLevel.Information, Message = "Created Stripe customer {CustomerId}")]
        public static partial void CustomerCreated(ILogger logger, string customerId);

        [LoggerMessage(EventId = 202, EventName = "CustomerCreationFailed", Level = LogLevel.Warning, Message = "Stripe answered the customer's creation with {StatusCode} (request id {RequestId}), and keeps that answer under its idempotency key for 24 hours: looking again, then creating under a key of this attempt's own")]
        public static partial void CreationFailed(ILogger logger, int statusCode, string? requestId);

        [LoggerMessage(EventId = 203, EventName = "CustomerSearchUnavailable", Level = LogLevel.Warning, Message = "Stripe refused the customer search ({StatusCode}, code {Code}, request id {RequestId}); the customer is looked up by the store and the user's idempotency key only")]
        public static partial void SearchUnavailable(ILogger logger, int statusCode, string? code, string? requestId);

        [LoggerMessage(EventId = 204, EventName = "CustomerMissing", Level = LogLevel.Warning, Message = "Stripe has no customer {CustomerId}, which the customer store names for this user (deleted, or of the other mode): replacing it")]
        public static partial void CustomerMissing(ILogger logger, string customerId);

        [LoggerMessage(EventId = 207, EventName = "CustomerSearchTruncated", Level = LogLevel.Warning, Message = "The customer search by user id read {Count} customers and Stripe had more (other tenants' users of the same id): only those were compared. Give every user a tenant id, or keep the mapping in a durable customer store")]
        public static partial void SearchTruncated(ILogger logger, int count);

        [LoggerMessage(EventId = 205, EventName = "CustomerUpdated", Level = LogLevel.Information, Message = "Updated Stripe customer {CustomerId}")]
        public static partial void CustomerUpdated(ILogger logger, string customerId);

        [LoggerMessage(EventId = 208, EventName = "CustomerForgotten", Level = LogLevel.Information, Message = "Forgot a user's Stripe customer: {Count} customer(s) detached from the user id, and the customer store's entry removed")]
        public static partial void CustomerForgotten(ILogger logger, int count);

        [LoggerMessage(EventId = 206, EventName = "UpdatedCustomerMissing", Level = LogLevel.Warning, Message = "Stripe has no customer {CustomerId}, which the customer store names for this user (deleted, or of the other mode): nothing updated; the user's next checkout replaces it")]
        public static partial void UpdatedCustomerMissing(ILogger logger, string customerId);
    }
}
