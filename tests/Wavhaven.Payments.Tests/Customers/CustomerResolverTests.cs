using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Customers;

/// <summary>Store, then Stripe search, then create; and one create for one user, however many ask at once.</summary>
public class CustomerResolverTests
{
    private static readonly CustomerKey User42 = new("user-42");

    private static (ICustomerResolver Sut, ICustomerStore Store, StubStripeHandler Handler, ServiceProvider Services) Create(ICustomerStore? store = null)
    {
        var handler = new StubStripeHandler();
        var services = TestServices.Build(handler, services: collection =>
        {
            if (store is not null)
            {
                collection.Replace(ServiceDescriptor.Singleton(store));
            }
        });
        return (services.GetRequiredService<ICustomerResolver>(), services.GetRequiredService<ICustomerStore>(), handler, services);
    }

    private static int Creates(StubStripeHandler handler) => handler.Requests.Count(r => r.Method == HttpMethod.Post && r.Path == "/v1/customers");

    private static int Searches(StubStripeHandler handler) => handler.Requests.Count(r => r.Path == "/v1/customers/search");

    private static string SearchQuery(RecordedRequest request) =>
        Uri.UnescapeDataString(request.Query.Split('&').Single(part => part.StartsWith("query=", StringComparison.Ordinal))["query=".Length..]);

    [Fact]
    public async Task GetOrCreateCustomerIdAsync_KnownToTheStore_SendsNothing()
    {
        var (sut, store, handler, _) = Create();
        await store.SetCustomerIdAsync(User42, "cus_stored");

        var customerId = await sut.GetOrCreateCustomerIdAsync(User42, "jane@example.com", "Jane");

        customerId.Should().Be("cus_stored");
        handler.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task GetOrCreateCustomerIdAsync_FoundBySearch_SkipsOthersAndDeleted_SavesWithoutCreating()
    {
        var (sut, store, handler, _) = Create();
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.Search(
            StripeResponses.Customer("cus_other_user", "user-420", created: 1000),
            StripeResponses.Customer("cus_deleted", "user-42", created: 1000, deleted: true),
            StripeResponses.Customer("cus_no_metadata", created: 1000),
            StripeResponses.Customer("cus_newer", "user-42", created: 3000),
            StripeResponses.Customer("cus_oldest", "user-42", created: 2000)));

        var customerId = await sut.GetOrCreateCustomerIdAsync(User42, "jane@example.com", "Jane");

        customerId.Should().Be("cus_oldest", "deleted customers and other users' are skipped, and the oldest match wins");
        handler.Requests.Should().ContainSingle();
        SearchQuery(handler.Requests[0]).Should().Be("metadata['wavhaven_user_id']:'user-42'");
        (await store.GetCustomerIdAsync(User42)).Should().Be("cus_oldest");
    }

    [Fact]
    public async Task GetOrCreateCustomerIdAsync_WithTenant_SearchesAndMatchesTheTenant()
    {
        var (sut, store, handler, _) = Create();
        var key = new CustomerKey("user-42", "acme");
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.Search(
            StripeResponses.Customer("cus_no_tenant", "user-42", created: 1000),
            StripeResponses.Customer("cus_other_tenant", "user-42", "globex", created: 1000),
            StripeResponses.Customer("cus_acme", "user-42", "acme", created: 2000)));

        var customerId = await sut.GetOrCreateCustomerIdAsync(key, null, null);

        customerId.Should().Be("cus_acme");
        SearchQuery(handler.Requests.Single()).Should().Be("metadata['wavhaven_user_id']:'user-42' AND metadata['wavhaven_tenant_id']:'acme'");
        (await store.GetCustomerIdAsync(key)).Should().Be("cus_acme");
        (await store.GetCustomerIdAsync(User42)).Should().BeNull("a tenant's customer is not the tenant-less user's");
    }

    [Fact]
    public async Task GetOrCreateCustomerIdAsync_OnlyATenantsCustomerFound_CreatesOneForTheUserWithoutTenant()
    {
        var (sut, _, handler, _) = Create();
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.Search(StripeResponses.Customer("cus_acme", "user-42", "acme")));
        handler.OnJson(HttpMethod.Post, "/v1/customers", StripeResponses.CustomerJson("cus_new", "user-42"));

        var customerId = await sut.GetOrCreateCustomerIdAsync(User42, "jane@example.com", null);

        customerId.Should().Be("cus_new");
        var create = handler.Requests.Single(r => r.Method == HttpMethod.Post);
        create.Body.Should().Be("email=jane%40example.com&metadata[wavhaven_user_id]=user-42");
        create.Header("Idempotency-Key").Should().Be("wavhaven-customer-7e32b8bfc7a80d4a8d8454851f743742");
    }

    [Fact]
    public async Task GetOrCreateCustomerIdAsync_TwentyConcurrentCallsForANewUser_CreateOneCustomer()
    {
        var (sut, store, handler, _) = Create();
        var createCalls = 0;
        handler.On(HttpMethod.Get, "/v1/customers/search", async (_, token) =>
        {
            await Task.Delay(50, token);
            return StubStripeHandler.Json(StripeResponses.EmptySearch);
        });
        handler.On(HttpMethod.Post, "/v1/customers", async (_, token) =>
        {
            var n = Interlocked.Increment(ref createCalls);
            await Task.Delay(50, token);
            return StubStripeHandler.Json(StripeResponses.CustomerJson("cus_created_" + n, "user-42"));
        });
        using var start = new ManualResetEventSlim();

        var calls = Enumerable.Range(0, 20)
            .Select(_ => Task.Run(() =>
            {
                start.Wait();
                return sut.GetOrCreateCustomerIdAsync(User42, "jane@example.com", "Jane");
            }))
            .ToArray();
        start.Set();
        var ids = await Task.WhenAll(calls);

        Creates(handler).Should().Be(1);
        Searches(handler).Should().Be(1);
        ids.Should().AllBe("cus_created_1");
        (await store.GetCustomerIdAsync(User42)).Should().Be("cus_created_1");
    }

    [Fact]
    public async Task GetOrCreateCustomerIdAsync_StoreReadOverlappingAFinishedLookup_DoesNotCreateASecondCustomer()
    {
        // A caller reads the store (nothing yet), and before it joins the in-flight lookup another caller's lookup
        // has created the customer, saved it and left. Search is eventually consistent and does not see the new
        // customer yet, so only the store can tell the late caller.
        var store = new StaleFirstReadStore();
        var (sut, _, handler, _) = Create(store);
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch);
        handler.OnJson(HttpMethod.Post, "/v1/customers", StripeResponses.CustomerJson("cus_once", "user-42"));

        var late = sut.GetOrCreateCustomerIdAsync(User42, "jane@example.com", "Jane");
        var early = await sut.GetOrCreateCustomerIdAsync(User42, "jane@example.com", "Jane");
        store.ReleaseFirstRead();
        var lateId = await late;

        early.Should().Be("cus_once");
        lateId.Should().Be("cus_once");
        Creates(handler).Should().Be(1);
    }

    [Fact]
    public async Task GetOrCreateCustomerIdAsync_FailedCreate_FailsItsCallersButNotLaterCalls()
    {
        var (sut, store, handler, _) = Create();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch);
        handler.Then(StubStripeHandler.Json(StripeResponses.EmptySearch));
        handler.Then(async (_, _) =>
        {
            await release.Task;
            return StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error", "Invalid email address: jane@example.invalid", param: "email");
        });
        handler.OnJson(HttpMethod.Post, "/v1/customers", StripeResponses.CustomerJson("cus_second_try", "user-42"));

        var first = sut.GetOrCreateCustomerIdAsync(User42, "jane@example.invalid", null);
        var joined = sut.GetOrCreateCustomerIdAsync(User42, "jane@example.invalid", null);
        release.SetResult();

        (await FluentActions.Awaiting(() => first).Should().ThrowAsync<StripeApiException>()).Which.Param.Should().Be("email");
        await FluentActions.Awaiting(() => joined).Should().ThrowAsync<StripeApiException>();
        (await store.GetCustomerIdAsync(User42)).Should().BeNull();

        var retried = await sut.GetOrCreateCustomerIdAsync(User42, "jane@example.com", null);

        retried.Should().Be("cus_second_try");
        Creates(handler).Should().Be(2);
        (await store.GetCustomerIdAsync(User42)).Should().Be("cus_second_try");
    }

    /// <summary>
    /// Stripe keeps a 5xx under its idempotency key and replays it for 24 hours (facts, section 3). With one key per user,
    /// a single failure of Stripe's would have failed every checkout of that user for a day.
    /// </summary>
    [Fact]
    public async Task GetOrCreateCustomerIdAsync_StripeKeepsA500UnderTheUsersKey_CreatesUnderANewKey()
    {
        var handler = new StubStripeHandler();
        using var services = TestServices.Build(handler, options => options.MaxNetworkRetries = 0);
        var sut = services.GetRequiredService<ICustomerResolver>();
        var userKey = CustomerResolver.IdempotencyKeyFor(User42);
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch);
        handler.OnJson(HttpMethod.Get, "/v1/customers", StripeResponses.List());
        handler.On(HttpMethod.Post, "/v1/customers", request => request.Header("Idempotency-Key") == userKey
            ? StubStripeHandler.Error(HttpStatusCode.InternalServerError, "api_error", "An unknown error occurred", headers: ("Idempotent-Replayed", "true"))
            : StubStripeHandler.Json(StripeResponses.CustomerJson("cus_fresh", "user-42")));

        var customerId = await sut.GetOrCreateCustomerIdAsync(User42, "jane@example.com", null);
        var again = await sut.GetOrCreateCustomerIdAsync(User42, "jane@example.com", null);

        customerId.Should().Be("cus_fresh");
        again.Should().Be("cus_fresh");
        handler.Requests.Select(r => $"{r.Method} {r.Path}").Should().Equal(
            "GET /v1/customers/search", "POST /v1/customers", "GET /v1/customers", "GET /v1/customers/search", "POST /v1/customers");
        var creations = handler.Requests.Where(r => r.Method == HttpMethod.Post).Select(r => r.Header("Idempotency-Key")).ToList();
        creations[0].Should().Be(userKey);
        creations[1].Should().MatchRegex("^" + userKey + "-[0-9a-f]{32}$", "a key of this attempt's own");
    }

    [Fact]
    public async Task GetOrCreateCustomerIdAsync_CreationFailedButMadeTheCustomer_FindsItRatherThanMakeASecond()
    {
        var handler = new StubStripeHandler();
        using var services = TestServices.Build(handler, options => options.MaxNetworkRetries = 0);
        var sut = services.GetRequiredService<ICustomerResolver>();
        handler.Then(StubStripeHandler.Json(StripeResponses.EmptySearch)); // the first search, before the creation
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.Search(StripeResponses.Customer("cus_made", "user-42")));
        handler.OnJson(HttpMethod.Get, "/v1/customers", StripeResponses.List());
        handler.On(HttpMethod.Post, "/v1/customers", _ => StubStripeHandler.Error(HttpStatusCode.ServiceUnavailable, "api_error", "Try again"));

        var customerId = await sut.GetOrCreateCustomerIdAsync(User42, "jane@example.com", null);

        customerId.Should().Be("cus_made");
        handler.Requests.Count(r => r.Method == HttpMethod.Post).Should().Be(1);
    }

    /// <summary>
    /// Stripe's search is eventually consistent ("don't use search in read-after-write flows", facts section 6): a search
    /// made right after a creation that answered 5xx but did make the customer does not see it yet, whereas
    /// GET /v1/customers?email= is strongly consistent. Looking only by search creates a second customer for the user.
    /// </summary>
    [Fact]
    public async Task GetOrCreateCustomerIdAsync_CreationFailedButMadeTheCustomer_SearchNotCaughtUp_DoesNotMakeASecond()
    {
        var handler = new StubStripeHandler();
        using var services = TestServices.Build(handler, options => options.MaxNetworkRetries = 0);
        var sut = services.GetRequiredService<ICustomerResolver>();
        var made = StripeResponses.Customer("cus_made", "user-42");
        made["email"] = "jane@example.com";
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch); // not indexed yet
        handler.On(HttpMethod.Get, "/v1/customers", request => StubStripeHandler.Json(
            request.Query.Contains("email=jane%40example.com", StringComparison.Ordinal) ? StripeResponses.List(made) : StripeResponses.List()));
        handler.Then((_, _) => Task.FromResult(StubStripeHandler.Json(StripeResponses.EmptySearch))); // the first search
        handler.Then((_, _) => Task.FromResult(StubStripeHandler.Error(HttpStatusCode.InternalServerError, "api_error", "An unknown error occurred")));
        handler.OnJson(HttpMethod.Post, "/v1/customers", StripeResponses.CustomerJson("cus_second", "user-42"));

        var customerId = await sut.GetOrCreateCustomerIdAsync(User42, "jane@example.com", null);

        customerId.Should().Be("cus_made", "the failed creation made the customer, and a strongly consistent lookup finds it");
        Creates(handler).Should().Be(1, "a second creation would give the user two customers");
    }

    /// <summary>
    /// "Search functionality is not available to merchants in India" (facts section 6, Stripe's API reference): there the
    /// search call fails, and with it every first checkout of a registered buyer, although creating the customer under
    /// the user's idempotency key would do.
    /// </summary>
    [Fact]
    public async Task GetOrCreateCustomerIdAsync_SearchUnavailableOnTheAccount_StillCreatesTheCustomer()
    {
        var (sut, store, handler, _) = Create();
        handler.On(HttpMethod.Get, "/v1/customers/search", _ =>
            StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error", "Search is not available for accounts in India."));
        handler.OnJson(HttpMethod.Get, "/v1/customers", StripeResponses.List());
        handler.OnJson(HttpMethod.Post, "/v1/customers", StripeResponses.CustomerJson("cus_new", "user-42"));

        var customerId = await sut.GetOrCreateCustomerIdAsync(User42, "jane@example.com", "Jane");

        customerId.Should().Be("cus_new");
        handler.Requests.Single(r => r.Method == HttpMethod.Post).Header("Idempotency-Key").Should().Be(CustomerResolver.IdempotencyKeyFor(User42));
        (await store.GetCustomerIdAsync(User42)).Should().Be("cus_new");
    }

    [Theory]
    [InlineData("not an email")]
    [InlineData("   ")]
    [InlineData("Jane <jane@example.com>")]
    public async Task GetOrCreateCustomerIdAsync_EmailCheckoutWouldRefuse_IsRefusedBeforeAnyCall(string email)
    {
        // Checkout refuses such an email (Buyer.Email) and so does UpdateCustomerAsync ("checkout's rule"); the public
        // method that creates the customer with it must not send it to Stripe (a search, then a creation Stripe refuses).
        var (sut, _, handler, _) = Create();
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch);
        handler.OnJson(HttpMethod.Post, "/v1/customers", StripeResponses.CustomerJson("cus_new", "user-42"));

        var act = () => sut.GetOrCreateCustomerIdAsync(User42, email, "Jane");

        (await act.Should().ThrowAsync<ArgumentException>()).Which.ParamName.Should().Be("email");
        handler.Requests.Should().BeEmpty("nothing is sent for an argument the library refuses");
    }

    [Fact]
    public async Task GetOrCreateCustomerIdAsync_CallerCancelledAlready_StartsNoLookup()
    {
        var (sut, _, handler, _) = Create();
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch);
        handler.OnJson(HttpMethod.Post, "/v1/customers", StripeResponses.CustomerJson("cus_new", "user-42"));

        var act = () => sut.GetOrCreateCustomerIdAsync(User42, "jane@example.com", null, new CancellationToken(canceled: true));

        await act.Should().ThrowAsync<OperationCanceledException>();
        handler.Requests.Should().BeEmpty("the shared lookup runs on without any caller's token, so it must not start for one that gave up");
    }

    [Fact]
    public async Task GetOrCreateCustomerIdAsync_OneCallerCancels_OthersStillGetTheCustomer()
    {
        var (sut, _, handler, _) = Create();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        handler.On(HttpMethod.Get, "/v1/customers/search", async (_, _) =>
        {
            await release.Task;
            return StubStripeHandler.Json(StripeResponses.EmptySearch);
        });
        handler.OnJson(HttpMethod.Post, "/v1/customers", StripeResponses.CustomerJson("cus_shared", "user-42"));
        using var cancellation = new CancellationTokenSource();

        var impatient = sut.GetOrCreateCustomerIdAsync(User42, null, null, cancellation.Token);
        var patient = sut.GetOrCreateCustomerIdAsync(User42, null, null);
        await cancellation.CancelAsync();
        await FluentActions.Awaiting(() => impatient).Should().ThrowAsync<OperationCanceledException>();
        release.SetResult();

        (await patient).Should().Be("cus_shared");
        Creates(handler).Should().Be(1);
    }

    [Fact]
    public async Task GetOrCreateCustomerIdAsync_ScopedStore_FirstCallerLeavesAndItsScopeEnds_OthersStillGetTheCustomerSaved()
    {
        // The EF Core store is scoped, on the app's DbContext. The shared lookup outlives the request that started it:
        // when that request gives up and its scope is disposed, the lookup must not save through the disposed store.
        var handler = new StubStripeHandler();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        handler.On(HttpMethod.Get, "/v1/customers/search", async (_, _) =>
        {
            await release.Task;
            return StubStripeHandler.Json(StripeResponses.EmptySearch);
        });
        handler.OnJson(HttpMethod.Post, "/v1/customers", StripeResponses.CustomerJson("cus_shared", "user-42"));
        using var services = TestServices.Build(handler, services: collection =>
        {
            collection.AddSingleton<ConcurrentDictionary<CustomerKey, string>>();
            collection.Replace(ServiceDescriptor.Scoped<ICustomerStore, DisposableScopedStore>());
        });
        var firstScope = services.CreateScope();
        using var secondScope = services.CreateScope();
        using var cancellation = new CancellationTokenSource();

        var impatient = firstScope.ServiceProvider.GetRequiredService<ICustomerResolver>().GetOrCreateCustomerIdAsync(User42, null, null, cancellation.Token);
        var patient = secondScope.ServiceProvider.GetRequiredService<ICustomerResolver>().GetOrCreateCustomerIdAsync(User42, null, null);
        await cancellation.CancelAsync();
        await FluentActions.Awaiting(() => impatient).Should().ThrowAsync<OperationCanceledException>();
        firstScope.Dispose();
        release.SetResult();

        (await patient).Should().Be("cus_shared");
        Creates(handler).Should().Be(1);
        using var laterScope = services.CreateScope();
        (await laterScope.ServiceProvider.GetRequiredService<ICustomerStore>().GetCustomerIdAsync(User42)).Should().Be("cus_shared");
    }

    [Fact]
    public async Task GetOrCreateCustomerIdAsync_TwoProcesses_SendTheSameIdempotencyKey()
    {
        var keys = new List<string?>();
        for (var process = 0; process < 2; process++)
        {
            var (sut, _, handler, services) = Create();
            handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch);
            handler.OnJson(HttpMethod.Post, "/v1/customers", StripeResponses.CustomerJson("cus_1", "user-42", "acme"));

            await sut.GetOrCreateCustomerIdAsync(new CustomerKey("user-42", "acme"), null, null);

            keys.Add(handler.Requests.Single(r => r.Method == HttpMethod.Post).Header("Idempotency-Key"));
            await services.DisposeAsync();
        }

        keys.Should().Equal("wavhaven-customer-272012f4f1132782de1c9005997bdfd4", "wavhaven-customer-272012f4f1132782de1c9005997bdfd4");
    }

    [Fact]
    public void IdempotencyKeyFor_IsStablePerUserAndDiffersPerUserAndTenant()
    {
        var keys = new[]
        {
            CustomerResolver.IdempotencyKeyFor(new CustomerKey("user-42")),
            CustomerResolver.IdempotencyKeyFor(new CustomerKey("user-42", "acme")),
            CustomerResolver.IdempotencyKeyFor(new CustomerKey("user-42", "globex")),
            CustomerResolver.IdempotencyKeyFor(new CustomerKey("user-43")),
            CustomerResolver.IdempotencyKeyFor(new CustomerKey("user-43", "acme")),
        };

        CustomerResolver.IdempotencyKeyFor(new CustomerKey("user-42", "acme")).Should().Be(keys[1]);
        keys.Should().OnlyHaveUniqueItems().And.AllSatisfy(key => key.Should().MatchRegex("^wavhaven-customer-[0-9a-f]{32}$"));
    }

    /// <summary>
    /// Two users must never share a creation key: Stripe would answer the second creation within 24 hours with the first
    /// user's customer. Hashing tenant, line break and user id let a line break in either move the boundary.
    /// </summary>
    [Theory]
    [InlineData("x\ny", "acme", "y", "acme\nx")]
    [InlineData("x\ny", null, "y", "\nx")]
    [InlineData("\nacme\nuser", null, "user", "\nacme")]
    [InlineData("3:abc\nuser", null, "user", "abc")]
    public void IdempotencyKeyFor_UsersWhoseTenantAndIdJoinAlike_GetDifferentKeys(string userId, string? tenantId, string otherUserId, string otherTenantId)
    {
        var first = CustomerResolver.IdempotencyKeyFor(new CustomerKey(userId, tenantId));
        var second = CustomerResolver.IdempotencyKeyFor(new CustomerKey(otherUserId, otherTenantId));

        second.Should().NotBe(first);
    }

    [Theory]
    [InlineData(@"user-\uD83D", null, null, null)]
    [InlineData("user-42", @"acme\uDE00", null, null)]
    [InlineData("user-42", null, @"jane\uD83D@example.com", null)]
    [InlineData("user-42", null, null, @"Jane \uDE00")]
    public async Task GetOrCreateCustomerIdAsync_TextWithALoneSurrogate_IsRefusedAndSendsNothing(string userId, string? tenantId, string? email, string? name)
    {
        var (sut, _, handler, _) = Create();
        static string? Lone(string? escaped) => escaped is null ? null : Regex.Unescape(escaped); // theory data would carry U+FFFD

        var act = () => sut.GetOrCreateCustomerIdAsync(new CustomerKey(Lone(userId)!, Lone(tenantId)), Lone(email), Lone(name));

        await act.Should().ThrowAsync<ArgumentException>().WithMessage("*unpaired UTF-16 surrogate*");
        handler.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("o'brien", null, "metadata['wavhaven_user_id']:'o\\'brien'")]
    [InlineData("back\\slash'", null, "metadata['wavhaven_user_id']:'back\\\\slash\\''")]
    [InlineData("42", "it's", "metadata['wavhaven_user_id']:'42' AND metadata['wavhaven_tenant_id']:'it\\'s'")]
    public async Task FindCustomerIdAsync_ValuesWithQuotes_AreEscapedInTheSearchQuery(string userId, string? tenantId, string expectedQuery)
    {
        var (sut, _, handler, _) = Create();
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch);

        var customerId = await sut.FindCustomerIdAsync(new CustomerKey(userId, tenantId));

        customerId.Should().BeNull();
        SearchQuery(handler.Requests.Single()).Should().Be(expectedQuery);
    }

    [Fact]
    public async Task FindCustomerIdAsync_SearchThatNeverEnds_StopsAfterElevenPages_AndComparesWhatItRead()
    {
        // Every tenant's user "42" matches a search without a tenant; a search that always has more (or a page token that
        // repeats) must not hold a checkout for ever. The user's own customer is on the first page here.
        var (sut, _, handler, _) = Create();
        var page = new JsonObject
        {
            ["object"] = "search_result",
            ["data"] = new JsonArray(StripeResponses.Customer("cus_own", "user-42", null), StripeResponses.Customer("cus_acme", "user-42", "acme")),
            ["has_more"] = true,
            ["next_page"] = "page_token",
        }.ToJsonString();
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", page);

        (await sut.FindCustomerIdAsync(User42)).Should().Be("cus_own");

        Searches(handler).Should().Be(11, "the first page and ten more");
        handler.Requests.Skip(1).Should().OnlyContain(r => r.Query.Contains("limit=100", StringComparison.Ordinal) && r.Query.Contains("page=page_token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FindCustomerIdAsync_NotFound_ReturnsNullWithoutCreating()
    {
        var (sut, store, handler, _) = Create();
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch);

        (await sut.FindCustomerIdAsync(User42)).Should().BeNull();

        handler.Requests.Should().ContainSingle().Which.Method.Should().Be(HttpMethod.Get);
        (await store.GetCustomerIdAsync(User42)).Should().BeNull();
    }

    [Fact]
    public async Task FindCustomerIdAsync_FoundBySearch_IsSavedSoTheNextCallSendsNothing()
    {
        var (sut, _, handler, _) = Create();
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.Search(StripeResponses.Customer("cus_found", "user-42")));

        (await sut.FindCustomerIdAsync(User42)).Should().Be("cus_found");
        (await sut.FindCustomerIdAsync(User42)).Should().Be("cus_found");

        handler.Requests.Should().ContainSingle();
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(null)]
    public async Task Resolver_WithoutUserId_ThrowsAndSendsNothing(string? userId)
    {
        var (sut, _, handler, _) = Create();

        await FluentActions.Awaiting(() => sut.GetOrCreateCustomerIdAsync(new CustomerKey(userId!), null, null)).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(() => sut.FindCustomerIdAsync(new CustomerKey(userId!))).Should().ThrowAsync<ArgumentException>();
        handler.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public async Task Resolver_WithABlankTenant_ThrowsAndSendsNothing(string tenantId)
    {
        var (sut, _, handler, _) = Create();

        (await FluentActions.Awaiting(() => sut.GetOrCreateCustomerIdAsync(new CustomerKey("user-42", tenantId), null, null)).Should().ThrowAsync<ArgumentException>())
            .WithMessage("TenantId is empty or blank*");
        await FluentActions.Awaiting(() => sut.FindCustomerIdAsync(new CustomerKey("user-42", tenantId))).Should().ThrowAsync<ArgumentException>();
        handler.Requests.Should().BeEmpty("a blank tenant would have found or made the customer of the user without one");
    }

    /// <summary>
    /// A store whose first read is answered late, with what the store held when the read began: a slow database
    /// read that a concurrent write overtakes.
    /// </summary>
    private sealed class StaleFirstReadStore : ICustomerStore
    {
        private readonly ConcurrentDictionary<CustomerKey, string> _customers = new();
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _reads;

        public void ReleaseFirstRead() => _release.SetResult();

        public async ValueTask<string?> GetCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default)
        {
            var value = _customers.TryGetValue(key, out var customerId) ? customerId : null;
            if (Interlocked.Increment(ref _reads) == 1)
            {
                await _release.Task.WaitAsync(cancellationToken);
            }

            return value;
        }

        public ValueTask SetCustomerIdAsync(CustomerKey key, string customerId, CancellationToken cancellationToken = default)
        {
            _customers[key] = customerId;
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A scoped store over a shared map that, like a disposed <c>DbContext</c>, refuses to work once its scope ends.</summary>
    private sealed class DisposableScopedStore(ConcurrentDictionary<CustomerKey, string> map) : ICustomerStore, IDisposable
    {
        private bool _disposed;

        public void Dispose() => _disposed = true;

        public ValueTask<string?> GetCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return ValueTask.FromResult(map.TryGetValue(key, out var id) ? id : null);
        }

        public ValueTask SetCustomerIdAsync(CustomerKey key, string customerId, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            map[key] = customerId;
            return ValueTask.CompletedTask;
        }
    }
}
