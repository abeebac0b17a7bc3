package warmgate.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

// No I/O.
class JobIdsTest {

  @Test
  void sameUploadGivesSameIdWhateverTheETagQuotingOrCase() {
    assertThat(JobIds.forUpload("b", "k", null, "\"ABC123\"")).isEqualTo(JobIds.forUpload("b", "k", null, "abc123"));
  }

  @Test
  void reuploadWithNewContentGivesNewId() {
    assertThat(JobIds.forUpload("b", "k", null, "etag-1")).isNotEqualTo(JobIds.forUpload("b", "k", null, "etag-2"));
  }

  @Test
  void eTagWinsOverVersionIdSoEveryRouteAgreesOnOneUpload() {
    // The folder watcher knows no versions; an S3 event for the same bytes carries one.
    assertThat(JobIds.forUpload("b", "k", "v1", "etag-1")).isEqualTo(JobIds.forUpload("b", "k", null, "etag-1"));
    assertThat(JobIds.forUpload("b", "k", "v1", "e")).isEqualTo(JobIds.forUpload("b", "k", "v2", "e"));
    assertThat(JobIds.forUpload("b", "k", "v1", "etag-1")).isNotEqualTo(JobIds.forUpload("b", "k", "v1", "etag-2"));
  }

  @Test
  void versionIdIdentifiesAnUploadWithoutETag() {
    assertThat(JobIds.forUpload("b", "k", "v1", null)).isNotEqualTo(JobIds.forUpload("b", "k", "v2", null));
  }

  @Test
  void literalNullVersionMeansUnversioned() {
    // S3 reports objects written before versioning was enabled with versionId "null".
    assertThat(JobIds.forUpload("b", "k", "null", "e")).isEqualTo(JobIds.forUpload("b", "k", null, "e"));
  }

  @Test
  void bucketAndKeyCannotBeShiftedIntoEachOther() {
    assertThat(JobIds.forUpload("ab", "c", null, "e")).isNotEqualTo(JobIds.forUpload("a", "bc", null, "e"));
  }

  @Test
  void uploadWithoutIdentityIsRefused() {
    assertThatThrownBy(() -> JobIds.forUpload("b", "k", null, " ")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void idsAreValidAndUrlSafe() {
    assertThat(JobIds.isValid(JobIds.forUpload("b", "k", null, "e"))).isTrue();
    assertThat(JobIds.isValid(JobIds.random())).isTrue();
    assertThat(JobIds.isValid(JobIds.forIdempotencyKey("alice", "k-1"))).isTrue();
    assertThat(JobIds.isValid("../etc")).isFalse();
    assertThat(JobIds.isValid("")).isFalse();
  }

  @Test
  void idempotencyKeyIsScopedByOwner() {
    assertThat(JobIds.forIdempotencyKey("alice", "k")).isNotEqualTo(JobIds.forIdempotencyKey("bob", "k"));
    assertThat(JobIds.forIdempotencyKey("alice", "k")).isEqualTo(JobIds.forIdempotencyKey("alice", "k"));
  }
}
