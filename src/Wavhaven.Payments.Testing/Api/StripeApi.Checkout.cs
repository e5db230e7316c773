using System.Text.Json.Nodes;
using Wavhaven.Payments.Testing.State;

namespace Wavhaven.Payments.Testing.Api;

/// <summary>Checkout sessions: create (validated as Stripe does), read, line items, expire, list.</summary>
internal sealed partial class StripeApi
{
    private static readonly ObjectSpec CreateSessionParams = Accepts(
        ("mode", ParamSpec.Scalar),
        ("line_items", ParamSpec.ListOf(ParamSpec.Object(
            ("price", ParamSpec.Scalar),
            ("quantity", ParamSpec.Scalar),
            ("price_data", ParamSpec.Object(
                ("currency", ParamSpec.Scalar),
                ("unit_amount", ParamSpec.Scalar),
                ("product", ParamSpec.Scalar),
                ("product_data", ParamSpec.Object(
                    ("name", ParamSpec.Scalar),
                    ("description", ParamSpec.Scalar),
                    ("images", ParamSpec.ListOf(ParamSpec.Scalar)),
                    ("metadata", ParamSpec.Map),
                    ("tax_code", ParamSpec.Scalar))),
                ("recurring", ParamSpec.Object(("interval", ParamSpec.Scalar), ("interval_count", ParamSpec.Scalar))),
                ("tax_behavior", ParamSpec.Scalar),
                ("unit_amount_decimal", ParamSpec.Unsupported))),
            ("adjustable_quantity", ParamSpec.Unsupported),
            ("tax_rates", ParamSpec.Unsupported),
            ("dynamic_tax_rates", ParamSpec.Unsupported),
            ("metadata", ParamSpec.Map)))),
        ("customer", ParamSpec.Scalar),
        ("customer_email", ParamSpec.Scalar),
        ("customer_update", ParamSpec.Object(("address", ParamSpec.Scalar), ("name", ParamSpec.Scalar), ("shipping", ParamSpec.Scalar))),
        ("client_reference_id", ParamSpec.Scalar),
        ("metadata", ParamSpec.Map),
        ("payment_intent_data", ParamSpec.Object(
            ("metadata", ParamSpec.Map),
            ("description", ParamSpec.Scalar),
            ("receipt_email", ParamSpec.Scalar),
            ("capture_method", ParamSpec.Unsupported),
            ("setup_future_usage", ParamSpec.Unsupported))),
        ("subscription_data", ParamSpec.Object(
            ("metadata", ParamSpec.Map),
            ("trial_period_days", ParamSpec.Scalar),
            ("description", ParamSpec.Scalar),
            ("trial_end", ParamSpec.Unsupported),
            ("billing_cycle_anchor", ParamSpec.Unsupported))),
        ("success_url", ParamSpec.Scalar),
        ("cancel_url", ParamSpec.Scalar),
        ("return_url", ParamSpec.Unsupported),
        ("allow_promotion_codes", ParamSpec.Scalar),
        ("automatic_tax", ParamSpec.Object(("enabled", ParamSpec.Scalar), ("liability", ParamSpec.Map))),
        ("customer_creation", ParamSpec.Scalar),
        ("billing_address_collection", ParamSpec.Scalar),
        ("expires_at", ParamSpec.Scalar),
        ("ui_mode", ParamSpec.Scalar),
        ("locale", ParamSpec.Scalar),
        ("discounts", ParamSpec.Unsupported),
        ("allowed_payment_method_types", ParamSpec.ListOf(ParamSpec.Scalar)),
        ("excluded_payment_method_types", ParamSpec.ListOf(ParamSpec.Scalar)));

    private void MapCheckout()
    {
        Map("POST", "/v1/checkout/sessions", CreateSessionParams, CreateSession);
        Map("GET", "/v1/checkout/sessions/{id}", Nothing, call =>
        {
            var session = _store.Get<CheckoutSession>(call.Id, "checkout.session", "id");
            var json = session.ToJson(_store);
            if (call.Params.Strings("expand").Contains("line_items"))
            {
                json["line_items"] = session.LineItemsJson(_store, [.. session.Lines.Take(10)], session.Lines.Count > 10);
            }

            return json;
        });
        Map("GET", "/v1/checkout/sessions/{id}/line_items", ListAccepts(), call =>
        {
            var session = _store.Get<CheckoutSession>(call.Id, "checkout.session", "id");
            return Page(call, session.Lines, line => line.Id, line => line.ToJson(_store), "/v1/checkout/sessions/" + session.Id + "/line_items");
        });
        Map("POST", "/v1/checkout/sessions/{id}/expire", Nothing, call =>
        {
            var session = _store.Get<CheckoutSession>(call.Id, "checkout.session", "id");
            _store.ExpireSession(session, call.Request);
            return session.ToJson(_store);
        });
        Map("GET", "/v1/checkout/sessions", ListAccepts("customer", "payment_intent", "subscription", "status"), call =>
        {
            var parameters = call.Params;
            var customer = parameters.String("customer");
            var intent = parameters.String("payment_intent");
            var subscription = parameters.String("subscription");
            var status = parameters.OneOf("status", "open", "complete", "expired");
            return EntityPage(call, _store.All<CheckoutSession>().Where(session =>
                (customer is null || session.CustomerId == customer)
                && (intent is null || session.PaymentIntentId == intent)
                && (subscription is null || session.SubscriptionId == subscription)
                && (status is null || session.Status == status)), "/v1/checkout/sessions", _store);
        });
    }

    private JsonObject CreateSession(ApiCall call)
    {
        var p = call.Params;
        var mode = p.RequiredString("mode");
        if (mode is not ("payment" or "subscription" or "setup"))
        {
            throw ApiException.InvalidRequest($"Invalid mode: must be one of payment, setup or subscription, got '{mode}'.", "mode");
        }

        if (mode == "setup")
        {
            throw ApiException.InvalidRequest("The emulator does not implement mode=setup.", "mode", "parameter_unsupported_by_emulator");
        }

        var uiMode = p.String("ui_mode") ?? "hosted_page";
        if (uiMode is "hosted" or "embedded" or "custom")
        {
            throw ApiException.InvalidRequest($"Invalid ui_mode: '{uiMode}' was renamed in API version 2026-03-25.dahlia; use hosted_page, embedded_page, elements or form.", "ui_mode");
        }

        if (uiMode != "hosted_page")
        {
            throw ApiException.InvalidRequest($"The emulator serves only hosted Checkout pages (ui_mode=hosted_page), not '{uiMode}'.", "ui_mode", "parameter_unsupported_by_emulator");
        }

        var now = _store.Now;
        var lines = ReadLines(p, mode, now);

        var customerId = p.String("customer");
        var customerEmail = p.String("customer_email");
        if (customerId is not null && customerEmail is not null)
        {
            throw ApiException.InvalidRequest("You may only specify one of these parameters: customer, customer_email.", "customer_email");
        }

        var customer = customerId is null ? null
            : _store.Find<Customer>(customerId) ?? throw ApiException.InvalidRequest($"No such customer: '{customerId}'", "customer", "resource_missing");
        var customerUpdate = p.Object("customer_update");
        if (customerUpdate is not null && customer is null)
        {
            throw ApiException.InvalidRequest("customer_update can only be used with customer.", "customer_update");
        }

        // Each of the three is checked (auto or never), whether or not the rule below reads it.
        var saveAddress = customerUpdate?.OneOf("address", "auto", "never") == "auto";
        var saveShipping = customerUpdate?.OneOf("shipping", "auto", "never") == "auto";
        customerUpdate?.OneOf("name", "auto", "never");
        if (p.Object("automatic_tax")?.Bool("enabled") == true && customer is { Address: null } && !saveAddress && !saveShipping)
        {
            throw ApiException.InvalidRequest(
                "Automatic tax calculation in Checkout requires a valid address on the Customer. Add a valid address to the Customer or set either `customer_update[address]` or `customer_update[shipping]` to 'auto' to save the address entered in Checkout to the Customer.",
                "customer_update[address]");
        }

        var customerCreation = p.OneOf("customer_creation", "always", "if_required");
        if (customerCreation is not null && mode == "subscription")
        {
            throw ApiException.InvalidRequest("customer_creation can only be used in payment and setup mode.", "customer_creation");
        }

        if (mode != "payment" && p.Has("payment_intent_data"))
        {
            throw ApiException.InvalidRequest("payment_intent_data can only be used in payment mode.", "payment_intent_data");
        }

        if (mode != "subscription" && p.Has("subscription_data"))
        {
            throw ApiException.InvalidRequest("subscription_data can only be used in subscription mode.", "subscription_data");
        }

        var successUrl = HttpUrl(p, "success_url");
        var cancelUrl = HttpUrl(p, "cancel_url");
        var expiresAt = now.AddHours(24);
        if (p.Long("expires_at") is { } expires)
        {
            expiresAt = DateTimeOffset.FromUnixTimeSeconds(expires);
            if (expiresAt < now.AddMinutes(30) || expiresAt > now.AddHours(24))
            {
                throw ApiException.InvalidRequest("The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.", "expires_at");
            }
        }

        var paymentIntentData = p.Object("payment_intent_data");
        var subscriptionData = p.Object("subscription_data");
        var trialDays = subscriptionData?.Long("trial_period_days");
        if (trialDays is < 1 or > 730)
        {
            throw ApiException.InvalidRequest("trial_period_days must be between 1 and 730.", "subscription_data[trial_period_days]");
        }

        var session = new CheckoutSession(Ids.New("cs_test_", 58), now)
        {
            Mode = mode,
            CustomerId = customerId,
            CustomerEmail = customerEmail,
            ClientReferenceId = p.String("client_reference_id"),
            Metadata = p.Metadata("metadata"),
            PaymentIntentMetadata = paymentIntentData?.Metadata("metadata") ?? new(StringComparer.Ordinal),
            PaymentIntentDescription = paymentIntentData?.String("description"),
            ReceiptEmail = paymentIntentData?.String("receipt_email"),
            SubscriptionMetadata = subscriptionData?.Metadata("metadata") ?? new(StringComparer.Ordinal),
            TrialPeriodDays = trialDays,
            SubscriptionDescription = subscriptionData?.String("description"),
            SuccessUrl = successUrl,
            CancelUrl = cancelUrl,
            AllowPromotionCodes = p.Bool("allow_promotion_codes"),
            AutomaticTax = p.Object("automatic_tax")?.Bool("enabled") ?? false,
            CustomerCreation = customerCreation ?? (mode == "payment" ? "if_required" : null),
            ExpiresAt = expiresAt,
            UiMode = uiMode,
            Locale = p.String("locale"),
        };
        session.Lines.AddRange(lines);
        _store.Add(session);
        return session.ToJson(_store);
    }

    private List<SessionLine> ReadLines(Params p, string mode, DateTimeOffset now)
    {
        var items = p.List("line_items").ToList();
        if (items.Count == 0)
        {
            throw ApiException.Missing("line_items");
        }

        var lines = new List<SessionLine>(items.Count);
        foreach (var item in items)
        {
            var priceId = item.String("price");
            var priceData = item.Object("price_data");
            Price price;
            if (priceId is not null && priceData is not null)
            {
                throw ApiException.InvalidRequest("You may only specify one of these parameters: price, price_data.", item.ParamPath("price"));
            }

            if (priceId is not null)
            {
                price = _store.Find<Price>(priceId)
                    ?? throw ApiException.InvalidRequest($"No such price: '{priceId}'", item.ParamPath("price"), "resource_missing");
                if (!price.Active)
                {
                    throw ApiException.InvalidRequest($"The price '{priceId}' is not active.", item.ParamPath("price"));
                }
            }
            else if (priceData is { } data)
            {
                price = PriceFromData(data, now);
            }
            else
            {
                throw ApiException.InvalidRequest("You must specify either `price` or `price_data` for each line item.", item.Path);
            }

            var quantity = item.Long("quantity") ?? throw ApiException.Missing(item.ParamPath("quantity"));
            if (quantity < 1)
            {
                throw ApiException.InvalidRequest("Quantity must be at least 1.", item.ParamPath("quantity"));
            }

            if (mode == "payment" && price.IsRecurring)
            {
                throw ApiException.InvalidRequest("You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.", priceId is null ? item.ParamPath("price_data") : item.ParamPath("price"));
            }

            if (lines.Count > 0 && lines[0].Price.Currency != price.Currency)
            {
                throw ApiException.InvalidRequest($"All line items must use the same currency; line 0 is in {lines[0].Price.Currency}, this one in {price.Currency}.", item.Path);
            }

            if (price.IsRecurring && lines.FirstOrDefault(line => line.Price.IsRecurring) is { } firstRecurring
                && (firstRecurring.Price.Interval != price.Interval || firstRecurring.Price.IntervalCount != price.IntervalCount))
            {
                throw ApiException.InvalidRequest("All recurring prices on a subscription must have the same `recurring.interval` and `recurring.interval_count`.", item.Path);
            }

            var description = _store.Find<Product>(price.ProductId)?.Name ?? price.ProductId;
            lines.Add(new SessionLine(Ids.New("li_"), price, quantity, description));
        }

        if (lines.Count > 100)
        {
            throw ApiException.InvalidRequest("A Checkout Session can have at most 100 line items.", "line_items");
        }

        var recurring = lines.Count(line => line.Price.IsRecurring);
        if (mode == "subscription" && (recurring > 20 || lines.Count - recurring > 20))
        {
            throw ApiException.InvalidRequest("For `subscription` mode, there is a maximum of 20 line items with recurring Prices and 20 line items with one-time Prices.", "line_items");
        }

        if (mode == "subscription" && recurring == 0)
        {
            throw ApiException.InvalidRequest("You must provide at least one recurring price in `subscription` mode when using prices.", "line_items");
        }

        if (!TotalFits(lines))
        {
            // Stripe refuses amounts far smaller than this; the emulator at least never stores a total that wrapped around.
            throw ApiException.InvalidRequest("The line items' total amount is too large.", "line_items");
        }

        // Stripe charges at least its minimum per currency; a free cart (nothing to pay) is allowed.
        var total = lines.Sum(line => line.AmountTotal);
        if (mode == "payment" && total > 0 && Money.Minimum(lines[0].Price.Currency) is { } minimum && total < minimum)
        {
            throw ApiException.InvalidRequest($"The Checkout Session's total amount due must add up to at least {Money.Format(minimum, lines[0].Price.Currency)}.", "line_items");
        }

        // Stripe's amounts have at most eight digits (twelve for IDR): it refuses a larger total at creation.
        if (mode == "payment" && Money.Maximum(lines[0].Price.Currency) is var maximum && total > maximum)
        {
            throw ApiException.InvalidRequest($"The Checkout Session's total amount due must be no more than {Money.Format(maximum, lines[0].Price.Currency)}.", "line_items", "amount_too_large");
        }

        return lines;
    }

    /// <summary>Whether the lines' total (unit amount × quantity, summed) fits the amounts the emulator stores.</summary>
    private static bool TotalFits(List<SessionLine> lines)
    {
        try
        {
            var total = 0L;
            foreach (var line in lines)
            {
                total = checked(total + (line.Price.UnitAmount * line.Quantity));
            }

            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>An inline price (and product) from <c>price_data</c>, as Stripe creates them: inactive, not listed for reuse.</summary>
    private Price PriceFromData(Params data, DateTimeOffset now)
    {
        var currency = data.RequiredString("currency").ToLowerInvariant();
        var unitAmount = data.Long("unit_amount") ?? throw ApiException.Missing(data.ParamPath("unit_amount"));
        if (unitAmount < 0)
        {
            throw ApiException.InvalidRequest("unit_amount must be zero or more.", data.ParamPath("unit_amount"));
        }

        string productId;
        if (data.String("product") is { } existing)
        {
            productId = _store.Find<Product>(existing)?.Id ?? throw ApiException.InvalidRequest($"No such product: '{existing}'", data.ParamPath("product"), "resource_missing");
        }
        else
        {
            var productData = data.Object("product_data") ?? throw ApiException.InvalidRequest("You must specify either `product` or `product_data` in price_data.", data.Path);
            var product = new Product(Ids.New("prod_"), now, productData.RequiredString("name"))
            {
                Description = productData.String("description"),
                Active = false,
            };
            productData.ApplyMetadata("metadata", product.Metadata);
            productId = _store.Add(product).Id;
        }

        string? interval = null;
        long intervalCount = 1;
        if (data.Object("recurring") is { } recurring)
        {
            interval = recurring.OneOf("interval", "day", "week", "month", "year") ?? throw ApiException.Missing(recurring.ParamPath("interval"));
            intervalCount = recurring.Long("interval_count") ?? 1;
        }

        return _store.Add(new Price(Ids.New("price_"), now, productId, currency, unitAmount, interval) { IntervalCount = intervalCount, Active = false });
    }
}
