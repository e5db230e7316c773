// The Node.js peer: Stripe's documented webhook endpoint for Express
// (express.raw({type: 'application/json'}) + stripe.webhooks.constructEvent), with a no-op for
// checkout.session.completed, and GET /stats with the number of events verified, for run.sh.
'use strict';
const stripe = require('stripe')('sk_test_webhook_load');
const express = require('express');

const endpointSecret = process.env.WEBHOOK_SECRET;
const port = Number(process.argv[2] || 5103);
let handled = 0;

const app = express();

app.post('/webhook', express.raw({type: 'application/json'}), (request, response) => {
  const sig = request.headers['stripe-signature'];
  let event;
  try {
    event = stripe.webhooks.constructEvent(request.body, sig, endpointSecret);
  } catch (err) {
    response.status(400).send(`Webhook Error: ${err.message}`);
    return;
  }

  switch (event.type) {
    case 'checkout.session.completed':
      handled++; // fulfil the purchase here
      break;
    default:
      break;
  }

  response.send();
});

app.get('/stats', (request, response) => response.send(String(handled)));

app.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
