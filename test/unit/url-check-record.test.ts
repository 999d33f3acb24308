/** A URL check holds for the Service (and Ingress) it went through, and no other. */
import { currentUrlCheck, urlCheckAnnotation } from '../../src/k8s/url-check-record.js';

const svc = (uid: string) => ({ metadata: { uid } });
const verified = { checked: 'public' as const, verified: true };

it('a verdict reads back for the very Service it was made through', () => {
  expect(currentUrlCheck(urlCheckAnnotation(verified, { service: svc('s1') }), { service: svc('s1') })).toEqual(verified);
});

it('a Service made again (new uid) or gone voids the verdict', () => {
  const recorded = urlCheckAnnotation(verified, { service: svc('s1') });
  expect(currentUrlCheck(recorded, { service: svc('s2') })).toBeUndefined();
  expect(currentUrlCheck(recorded, {})).toBeUndefined();
});

it('an Ingress made again voids it; a reader that does not follow Ingresses judges by the Service', () => {
  const recorded = urlCheckAnnotation({ checked: 'public', verified: false, reason: 'it did not answer' }, { service: svc('s1'), ingress: svc('i1') });
  expect(currentUrlCheck(recorded, { service: svc('s1'), ingress: svc('i2') })).toBeUndefined();
  expect(currentUrlCheck(recorded, { service: svc('s1') })).toEqual({ checked: 'public', verified: false, reason: 'it did not answer' });
});

it('a record from before uids were kept is taken as it is; a hand-edited one is no verdict', () => {
  expect(currentUrlCheck(JSON.stringify(verified), { service: svc('s9') })).toEqual(verified);
  expect(currentUrlCheck('not json', { service: svc('s1') })).toBeUndefined();
  expect(currentUrlCheck(JSON.stringify({ checked: 'somewhere', verified: true }), { service: svc('s1') })).toBeUndefined();
});
