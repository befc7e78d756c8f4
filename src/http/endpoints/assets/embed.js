// callgate's enquiry form for any web page. GET / uses it to enhance its
// own form; a business adds it to its site with
//   <script src="https://callgate.example.com/embed.js" data-target="#callback" defer></script>
// and gets the form rendered into #callback (or right after the script tag).
// It posts JSON to /enquire (the site's origin must be in
// intake.cors_allowed_origins), shows the server's errors next to their
// fields, then follows the call's status until it ends.
//
// callgated serves this file followed by "(settings);": the function below
// is called with the consent text and the default country code from its config.
(function (settings) {
  'use strict';

  var script = document.currentScript;
  var origin = new URL(script ? script.src : '/', window.location.href).origin;
  var pollEveryMs = 1000;
  var pollForMs = 10 * 60 * 1000;

  // What a visitor is told at each lead status; true: the call is over.
  var statusText = {
    pending: ['We are calling you now\u2026', false],
    dialing: ['We are calling you now\u2026', false],
    queued: ['We are calling you now\u2026', false],
    initiated: ['We are calling you now\u2026', false],
    ringing: ['Your phone is ringing.', false],
    'in-progress': ['You are on the call.', false],
    completed: ['Call completed. Thank you!', true],
    busy: ['Your line was busy. We will try again shortly.', true],
    'no-answer': ['We could not reach you. We will try again shortly.', true],
    scheduled: ['We will call you again shortly.', true],
    failed: ['We could not place the call. Please try again later.', true],
    canceled: ['The call was cancelled.', true],
    // This number asked within the last few minutes (from elsewhere): the
    // call already on its way is the one it gets. Nothing to follow.
    duplicate: ['We already have a request for this number: we will call you shortly.', true]
  };

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function field(id, labelText, input, hintText) {
    var wrapper = element('div', { 'class': 'callgate-field' });
    var described = [];
    wrapper.appendChild(element('label', { 'for': id }, labelText));
    wrapper.appendChild(input);
    if (hintText) {
      wrapper.appendChild(element('p', { 'class': 'callgate-hint', id: id + '-hint' }, hintText));
      described.push(id + '-hint');
    }
    wrapper.appendChild(element('p', { 'class': 'callgate-error', id: id + '-error', 'data-error-for': input.name }));
    described.push(id + '-error');
    input.setAttribute('aria-describedby', described.join(' '));
    return wrapper;
  }

  // The same form GET / serves, for pages that have none.
  function renderForm(container, index) {
    var prefix = 'callgate-' + index + '-';
    var form = element('form', { 'class': 'callgate-form', method: 'post', action: origin + '/enquire', 'data-callgate': '' });
    form.appendChild(field(prefix + 'phone', 'Phone number',
      element('input', { id: prefix + 'phone', name: 'phone', type: 'tel', autocomplete: 'tel', inputmode: 'tel', required: '',
        maxlength: '32', placeholder: '+' + settings.countryCode + ' ' }),
      'Numbers without a country code are taken as +' + settings.countryCode + '.'));
    form.appendChild(field(prefix + 'name', 'Your name (optional)',
      element('input', { id: prefix + 'name', name: 'name', type: 'text', autocomplete: 'name', maxlength: '200' })));
    var consent = element('div', { 'class': 'callgate-field callgate-consent' });
    var box = element('input', { id: prefix + 'consent', name: 'consent', type: 'checkbox', value: 'true', required: '',
      'aria-describedby': prefix + 'consent-error' });
    consent.appendChild(box);
    consent.appendChild(element('label', { 'for': prefix + 'consent' }, settings.consentText));
    consent.appendChild(element('p', { 'class': 'callgate-error', id: prefix + 'consent-error', 'data-error-for': 'consent' }));
    form.appendChild(consent);
    form.appendChild(element('button', { type: 'submit' }, 'Call me back'));
    form.appendChild(element('p', { 'class': 'callgate-status', role: 'status', 'aria-live': 'polite', 'data-callgate-status': '' }));
    container.appendChild(form);
    return form;
  }

  function showErrors(form, fields) {
    var first = null;
    Object.keys(fields).forEach(function (name) {
      var slot = form.querySelector('[data-error-for="' + name + '"]');
      var input = form.elements[name];
      if (slot) slot.textContent = fields[name];
      else showStatus(form, name + ' ' + fields[name]);
      if (input && input.setAttribute) {
        input.setAttribute('aria-invalid', 'true');
        if (!first) first = input;
      }
    });
    if (first) first.focus();
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll('[data-error-for]'), function (slot) { slot.textContent = ''; });
    Array.prototype.forEach.call(form.querySelectorAll('[aria-invalid]'), function (input) { input.removeAttribute('aria-invalid'); });
  }

  function showStatus(form, text, status) {
    var line = form.querySelector('[data-callgate-status]');
    line.textContent = text;
    if (status) line.setAttribute('data-status', status);
  }

  function follow(form, leadId) {
    var started = Date.now();
    function poll() {
      fetch(origin + '/enquire/' + encodeURIComponent(leadId), { headers: { Accept: 'application/json' } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (lead) {
          var shown = lead && statusText[lead.status];
          if (shown) showStatus(form, shown[0], lead.status);
          if ((!shown || !shown[1]) && Date.now() - started < pollForMs) window.setTimeout(poll, pollEveryMs);
        })
        .catch(function () { if (Date.now() - started < pollForMs) window.setTimeout(poll, pollEveryMs * 5); });
    }
    poll();
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return String(Date.now()) + '-' + String(Math.random()).slice(2);
  }

  function enhance(form) {
    // One key for whatever this form sends: a double click or a retry after
    // a network error never makes a second call.
    var key = newKey();
    var button = form.querySelector('button[type=submit], button:not([type])');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      clearErrors(form);
      var body = {
        phone: form.elements.phone.value,
        consent: form.elements.consent.checked,
        source: window.location.hostname || 'page'
      };
      if (form.elements.name && form.elements.name.value) body.name = form.elements.name.value;
      if (button) button.disabled = true;
      showStatus(form, 'Sending\u2026');
      fetch(origin + '/enquire', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          if (response.status === 202) {
            form.setAttribute('data-lead-id', answer.leadId);
            if (answer.status === 'duplicate') {
              showStatus(form, statusText.duplicate[0], answer.status);
              return;
            }
            showStatus(form, statusText.pending[0], answer.status);
            follow(form, answer.leadId);
            return;
          }
          if (button) button.disabled = false;
          if (response.status === 422 && answer.fields) {
            showStatus(form, 'Please check the form.');
            showErrors(form, answer.fields);
          } else if (response.status === 429) {
            showStatus(form, 'Too many requests. Please try again in ' + (response.headers.get('Retry-After') || 'a few') + ' seconds.');
          } else {
            showStatus(form, answer.error || 'Something went wrong. Please try again.');
          }
        });
      }).catch(function () {
        if (button) button.disabled = false;
        showStatus(form, 'We could not reach the server. Please try again.');
      });
    });
  }

  function addStylesheet() {
    if (document.querySelector('link[data-callgate-style]') || document.querySelector('link[href="/embed.css"]')) return;
    var link = element('link', { rel: 'stylesheet', href: origin + '/embed.css', 'data-callgate-style': '' });
    document.head.appendChild(link);
  }

  function start() {
    var forms = document.querySelectorAll('form[data-callgate]');
    if (forms.length === 0) {
      addStylesheet();
      var target = script && script.getAttribute('data-target') ? document.querySelector(script.getAttribute('data-target')) : null;
      var container = element('div', { 'class': 'callgate' });
      if (target) target.appendChild(container);
      else if (script && script.parentNode) script.parentNode.insertBefore(container, script.nextSibling);
      else document.body.appendChild(container);
      forms = [renderForm(container, 0)];
    }
    Array.prototype.forEach.call(forms, enhance);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})
